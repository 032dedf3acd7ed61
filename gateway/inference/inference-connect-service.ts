/**
 * InferenceService for connect-node: gRPC (the methods the fast path does not serve), gRPC-Web and
 * Connect. connect-es decodes each request; this hands it, with the call's context, to the same
 * InferenceService operations the fast path calls (inference-rpc.ts). Deadlines (gRPC
 * `grpc-timeout`, Connect `connect-timeout-ms`) and client cancellation reach the batching queue
 * through the call's signal and remaining time; the protocol label comes from the content type.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { InferenceService, PredictStreamResponse } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { cancelSignalOf } from "../../server/batching/cancellation.js";
import type { CallContext } from "../../server/call-context.js";
import { parseContentType } from "../protocol/content-type.js";
import { createAsyncQueue } from "../protocol-connect/async-queue.js";
import type { InferenceRpc } from "./inference-rpc.js";

/** The call context of an RPC received at `receivedAt`: its protocol, its remaining time as a deadline, its signal. */
function callContext(ctx: HandlerContext, receivedAt: number): CallContext {
  const remaining = ctx.timeoutMs();
  return {
    protocol: parseContentType(ctx.requestHeader.get("content-type") ?? undefined)?.protocol ?? "connect",
    receivedAt,
    signal: cancelSignalOf(ctx.signal),
    deadline: remaining === undefined ? undefined : receivedAt + remaining,
  };
}

/** Implements InferenceService over its operations. */
export function createInferenceConnectService(rpc: InferenceRpc): ServiceImpl<typeof InferenceService> {
  return {
    predict(req, ctx) {
      return rpc.predict(callContext(ctx, performance.now()), () => req);
    },
    predictBatch(req, ctx) {
      return rpc.predictBatch(callContext(ctx, performance.now()), () => req);
    },
    async *predictStream(requests, ctx) {
      const answers = createAsyncQueue<PredictStreamResponse>();
      const input = rpc.predictStream(callContext(ctx, performance.now()), {
        send: (answer) => {
          answers.push(answer);
          return true;
        },
        end: (err) => answers.close(err),
      });
      void (async () => {
        try {
          for await (const req of requests) input.push(req, performance.now());
          input.end();
        } catch (err) {
          input.fail(err);
        }
      })();
      yield* answers;
    },
    modelInfo(req) {
      return rpc.modelInfo(req);
    },
    listModels() {
      return rpc.listModels();
    },
  };
}
