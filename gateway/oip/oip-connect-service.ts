/**
 * inference.GRPCInferenceService for connect-node: gRPC (the methods the fast path does not serve),
 * gRPC-Web and Connect, over the same operations the fast path calls (oip-rpc.ts), with the
 * call's context (protocol, deadline, cancellation) as InferenceService's Connect service builds it.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { GRPCInferenceService } from "../../gen/inference/v2/grpc_predict_v2_pb.js";
import { callContext, streamOverConnect } from "../inference/inference-connect-service.js";
import type { OipRpc } from "./oip-rpc.js";

/** Implements GRPCInferenceService over its operations. */
export function createOipConnectService(rpc: OipRpc): ServiceImpl<typeof GRPCInferenceService> {
  return {
    serverLive: () => rpc.serverLive(),
    serverReady: () => rpc.serverReady(),
    modelReady: (req) => rpc.modelReady(req),
    serverMetadata: () => rpc.serverMetadata(),
    modelMetadata: (req) => rpc.modelMetadata(req),
    modelInfer: (req, ctx) => rpc.modelInfer(callContext(ctx, performance.now()), () => req),
    modelStreamInfer: (requests, ctx) =>
      streamOverConnect(requests, (sink) => rpc.modelStreamInfer(callContext(ctx, performance.now()), sink)),
  };
}
