/**
 * InferenceService for connect-node: gRPC (the methods the fast path does not serve), gRPC-Web and
 * Connect. connect-es decodes each request; this hands it, with the call's context, to the same
 * InferenceService operations the fast path calls (inference-rpc.ts). Deadlines (gRPC
 * `grpc-timeout`, Connect `connect-timeout-ms`) and client cancellation reach the batching queue
 * through the call's signal and remaining time; the protocol label comes from the content type.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { cancelSignalOf } from "../../server/batching/cancellation.js";
import type { CallContext } from "../../server/call-context.js";
import type { PredictStreamInput, PredictStreamSink } from "../../server/predict-stream.js";
import { parseContentType } from "../protocol/content-type.js";
import { createAsyncQueue } from "../protocol-connect/async-queue.js";
import type { InferenceRpc } from "./inference-rpc.js";

/** The call context of an RPC received at `receivedAt`: its protocol, its remaining time as a deadline, its signal. */
export function callContext(ctx: HandlerContext, receivedAt: number): CallContext {
  const remaining = ctx.timeoutMs();
  return {
    protocol: parseContentType(ctx.requestHeader.get("content-type") ?? undefined)?.protocol ?? "connect",
    receivedAt,
    signal: cancelSignalOf(ctx.signal),
    deadline: remaining === undefined ? undefined : receivedAt + remaining,
  };
}

/**
 * A data-plane stream (PredictStream, ModelStreamInfer) served through connect-node: the request
 * messages are pushed into the stream's input as they arrive, its answers are yielded as they come.
 */
export async function* streamOverConnect<M, A>(
  requests: AsyncIterable<M>,
  start: (sink: PredictStreamSink<A>) => PredictStreamInput<M>,
): AsyncIterable<A> {
  const answers = createAsyncQueue<A>();
  const input = start({
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
    predictStream: (requests, ctx) =>
      streamOverConnect(requests, (sink) => rpc.predictStream(callContext(ctx, performance.now()), sink)),
    modelInfo(req) {
      return rpc.modelInfo(req);
    },
    listModels() {
      return rpc.listModels();
    },
  };
}
