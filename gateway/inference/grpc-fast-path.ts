/**
 * The hot gRPC methods of the inference service (Predict, PredictBatch, PredictStream, and the
 * Open Inference Protocol's ModelInfer and ModelStreamInfer) served
 * straight on Node's HTTP/2 streams, beside connect-node rather than through it.
 *
 * Why: connect-node serves gRPC through the http2 compatibility API and a chain of async
 * iterables per call. Measured on the 2-core bench machine with a grpc-js client, a no-op unary
 * RPC cost about 330 µs of server CPU through it against about 25 µs on a plain `stream` handler,
 * which capped every gRPC prediction at ~3k calls/s, whatever the batching did. Everything else
 * (ModelInfo, Health, gRPC-Web, the Connect protocol, unknown methods) still goes to connect-node;
 * only `application/grpc` (and `+proto`) POSTs to these paths come here.
 *
 * It keeps the behaviour connect-node gave these methods: the `grpc-timeout` deadline reaches the
 * batching queue; a client that cancels (RST_STREAM) aborts its queued rows; messages above
 * MAX_REQUEST_BYTES are refused (RESOURCE_EXHAUSTED) before they are buffered whole; gzip and
 * deflate request messages are accepted (responses are never compressed: raw float tensors barely
 * shrink); a message that is not valid protobuf is INVALID_ARGUMENT; errors carry the ErrorDetail
 * in `grpc-status-details-bin` and a spec-encoded `grpc-message`; admission control refuses with
 * the same trailers-only RESOURCE_EXHAUSTED; every call (every stream message) is counted by the
 * data plane in prediction_requests_total with protocol "grpc".
 *
 * The protocol work is protocol-grpc/'s (framing, timeouts, compression, status trailers, the
 * call on its HTTP/2 stream); this file only routes the methods to them and to the
 * InferenceService operations (inference-rpc.ts), which the Connect service shares.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { commonErrors } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import {
  GRPCInferenceService,
  ModelInferRequestSchema,
  ModelInferResponseSchema,
  ModelStreamInferResponseSchema,
} from "../../gen/inference/v2/grpc_predict_v2_pb.js";
import {
  InferenceService,
  PredictBatchRequestSchema,
  PredictBatchResponseSchema,
  PredictRequestSchema,
  PredictResponseSchema,
  PredictStreamRequestSchema,
  PredictStreamResponseSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import type { CallContext } from "../../server/call-context.js";
import type { PredictStreamInput, PredictStreamSink } from "../../server/predict-stream.js";
import type { GrpcAdmission } from "../admission/load-shedding.js";
import type { Authenticator } from "../auth/bearer-authenticator.js";
import { authenticationRefusal, requireIdentity } from "../auth/inference-authentication.js";
import type { OipPredictions } from "../oip/oip-rpc.js";
import { parseContentType } from "../protocol/content-type.js";
import { GrpcStreamCall, respondTrailersOnly } from "../protocol-grpc/grpc-stream-call.js";
import { requestEncoding } from "../protocol-grpc/message-encoding.js";
import { parseGrpcTimeout } from "../protocol-grpc/parse-timeout.js";
import { readMessage } from "../protocol-grpc/read-message.js";
import type { InferencePredictions, MessageReader } from "./inference-rpc.js";

/** Serves a new HTTP/2 stream and returns true, or returns false to leave it to the request handler. */
export type StreamRoute = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

/** Options of {@link createGrpcFastPath}. */
export interface GrpcFastPathOptions {
  /** The operations served: InferenceService's over the data plane (inference-rpc.ts), or the bench's no-op ones. */
  readonly predictions: InferencePredictions;
  /** The Open Inference Protocol's ModelInfer and ModelStreamInfer (gateway/oip/oip-rpc.ts), served here too when given. */
  readonly oip?: OipPredictions | undefined;
  readonly admission: GrpcAdmission;
  /**
   * Authenticates each call before admission (INFERENCE_AUTH=token, gateway/auth/
   * inference-authentication.ts); undefined: calls need no credentials.
   */
  readonly authenticate?: Authenticator | undefined;
  /** Largest request message in bytes (MAX_REQUEST_BYTES), compressed or not. */
  readonly maxRequestBytes: number;
  /**
   * Longest a unary call's request message may take to arrive, in ms (REQUEST_READ_TIMEOUT_MS):
   * a slower call ends DEADLINE_EXCEEDED (REQUEST_TIMEOUT). Unary calls are admitted once their
   * message is in, so a trickling client never holds an admission slot. 0: no bound.
   */
  readonly requestReadTimeoutMs: number;
  readonly logger: Logger;
}

/** A request header's (first) value. */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Serves one call: `admit` takes an admission slot (false: the call was refused and answered).
 * Streaming calls are admitted at once, unary ones once their request message has arrived.
 */
type Route = (call: GrpcStreamCall, setup: Setup, admit: () => boolean) => void;

/** How a call's request messages are read: their compression, and the error its headers are, if they are one. */
interface Setup {
  readonly encoding: string | undefined;
  readonly error?: unknown;
}

/** Reads the call's settings from its headers (`grpc-timeout`, `grpc-encoding`). */
function setUp(call: GrpcStreamCall, headers: IncomingHttpHeaders): Setup {
  const timeout = parseGrpcTimeout(header(headers, "grpc-timeout"), call.receivedAt);
  if (timeout.error !== undefined) return { encoding: undefined, error: timeout.error };
  call.deadline = timeout.deadline;
  try {
    return { encoding: requestEncoding(header(headers, "grpc-encoding")) };
  } catch (err) {
    return { encoding: undefined, error: err };
  }
}

/**
 * Creates the stream route of the inference server's hot gRPC methods (see the module comment).
 */
export function createGrpcFastPath(options: GrpcFastPathOptions): StreamRoute {
  const { predictions, admission, logger } = options;
  const limit = options.maxRequestBytes;
  const readTimeoutMs = options.requestReadTimeoutMs;
  const path = (name: string): string => `/${InferenceService.typeName}/${name}`;
  const m = InferenceService.method;

  function unary<I extends DescMessage, O extends DescMessage>(
    input: I,
    output: O,
    answer: (context: CallContext, read: MessageReader<MessageShape<I>>) => Promise<MessageShape<O>>,
  ): Route {
    return (call, setup, admit) => {
      if (setup.error !== undefined) {
        if (admit()) answerWith(() => Promise.reject(setup.error));
        return;
      }
      // The message is read before admission, within the read timeout: a slow body holds no slot.
      let settled = false;
      const timer =
        readTimeoutMs > 0
          ? setTimeout(() => {
              if (settled) return;
              settled = true;
              const err = commonErrors.requestTimeout(readTimeoutMs);
              call.end(err);
              call.abort.cancel(err);
            }, readTimeoutMs)
          : undefined;
      call.readUnary(limit).then(
        (frame) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          if (admit()) answerWith(async () => readMessage(input, frame, setup.encoding, limit));
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          call.end(err);
        },
      );

      function answerWith(read: MessageReader<MessageShape<I>>): void {
        answer(call.context, read).then(
          (res) => {
            call.write(toBinary(output, res));
            call.end();
          },
          (err: unknown) => call.end(err),
        );
      }
    };
  }

  /** A streaming method: each request message is pushed into the data plane's stream as it arrives, each answer written as it comes. */
  function streaming<I extends DescMessage, O extends DescMessage>(
    input: I,
    output: O,
    start: (context: CallContext, sink: PredictStreamSink<MessageShape<O>>) => PredictStreamInput<MessageShape<I>>,
  ): Route {
    return (call, setup, admit) => {
      if (!admit()) return;
      const { stream } = call;
      const messages = start(call.context, {
        send: (r) => call.write(toBinary(output, r)),
        // The client reads slower than it sends: stop reading until the answers drain.
        pauseInput: () => {
          if (stream.isPaused()) return;
          stream.pause();
          stream.once("drain", () => stream.resume());
        },
        end: (err) => {
          call.end(err);
          if (err !== undefined) call.abort.cancel(err);
        },
      });
      if (setup.error !== undefined) {
        messages.fail(setup.error);
        return;
      }
      call.readMessages(
        limit,
        (frame) => {
          const receivedAt = performance.now();
          try {
            messages.push(readMessage(input, frame, setup.encoding, limit), receivedAt);
          } catch (err) {
            messages.fail(err);
          }
        },
        () => messages.end(),
        (err) => messages.fail(err),
      );
    };
  }

  const routes = new Map<string, Route>([
    [
      path(m.predict.name),
      unary(PredictRequestSchema, PredictResponseSchema, (ctx, read) => predictions.predict(ctx, read)),
    ],
    [
      path(m.predictBatch.name),
      unary(PredictBatchRequestSchema, PredictBatchResponseSchema, (ctx, read) => predictions.predictBatch(ctx, read)),
    ],
    [
      path(m.predictStream.name),
      streaming(PredictStreamRequestSchema, PredictStreamResponseSchema, (ctx, sink) =>
        predictions.predictStream(ctx, sink),
      ),
    ],
  ]);
  const { oip } = options;
  if (oip !== undefined) {
    const v2 = (name: string): string => `/${GRPCInferenceService.typeName}/${name}`;
    const o = GRPCInferenceService.method;
    routes.set(
      v2(o.modelInfer.name),
      unary(ModelInferRequestSchema, ModelInferResponseSchema, (ctx, read) => oip.modelInfer(ctx, read)),
    );
    routes.set(
      v2(o.modelStreamInfer.name),
      streaming(ModelInferRequestSchema, ModelStreamInferResponseSchema, (ctx, sink) =>
        oip.modelStreamInfer(ctx, sink),
      ),
    );
  }

  return (stream, headers) => {
    const procedure = headers[":path"];
    const contentType = header(headers, "content-type");
    if (headers[":method"] !== "POST" || procedure === undefined) return false;
    const type = parseContentType(contentType);
    if (type?.protocol !== "grpc" || type.codec !== "proto") return false;
    const route = routes.get(procedure);
    if (route === undefined) return false;
    // Unary calls are admitted once their message is in (route calls `admit`), streams at once.
    const serve = (): void => {
      const admit = (): boolean => {
        const refusal = admission.admit();
        if (refusal !== undefined) {
          respondTrailersOnly(stream, { "content-type": contentType, ...refusal });
          return false;
        }
        stream.once("close", () => admission.release());
        return true;
      };
      const call = new GrpcStreamCall(stream, procedure, logger);
      route(call, setUp(call, headers), admit);
    };
    const { authenticate } = options;
    if (authenticate === undefined) {
      serve();
      return true;
    }
    requireIdentity(authenticate, headers).then((refused) => {
      // The client may have gone while its credentials were checked.
      if (stream.destroyed || stream.closed) return;
      if (refused === undefined) {
        serve();
        return;
      }
      const refusal = authenticationRefusal(refused, "grpc");
      respondTrailersOnly(stream, { "content-type": contentType, ...refusal.headers });
    });
    return true;
  };
}
