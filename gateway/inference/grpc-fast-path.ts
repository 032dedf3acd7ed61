/**
 * The hot gRPC methods of the inference service (Predict, PredictBatch, PredictStream) served
 * straight on Node's HTTP/2 streams, beside connect-node rather than through it.
 *
 * Why: connect-node serves gRPC through the http2 compatibility API and a chain of async
 * iterables per call. Measured on the 2-core bench machine with a grpc-js client, a no-op unary
 * RPC cost about 330 µs of server CPU through it against about 25 µs on a plain `stream` handler,
 * which capped every gRPC prediction at ~3k calls/s, whatever the batching did. Everything else
 * (ModelInfo, Health, gRPC-Web, the Connect protocol, unknown methods) still goes to connect-node;
 * only `application/grpc` (and `+proto`) POSTs to these three paths come here.
 *
 * It keeps the behaviour connect-node gave these methods: the `grpc-timeout` deadline reaches the
 * batching queue; a client that cancels (RST_STREAM) aborts its queued rows; messages above
 * MAX_REQUEST_BYTES are refused (RESOURCE_EXHAUSTED) before they are buffered whole; gzip and
 * deflate request messages are accepted (responses are never compressed: raw float tensors barely
 * shrink); a message that is not valid protobuf is INVALID_ARGUMENT; errors carry the ErrorDetail
 * in `grpc-status-details-bin` and a spec-encoded `grpc-message`; admission control refuses with
 * the same trailers-only RESOURCE_EXHAUSTED; every call (every stream message) is counted in
 * prediction_requests_total with protocol "grpc".
 */
import {
  constants as http2constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { promisify } from "node:util";
import { gunzip, inflate } from "node:zlib";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { Code, commonErrors, MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import {
  InferenceService,
  type PredictBatchRequest,
  PredictBatchRequestSchema,
  type PredictBatchResponse,
  PredictBatchResponseSchema,
  type PredictRequest,
  PredictRequestSchema,
  type PredictResponse,
  PredictResponseSchema,
  type PredictStreamRequest,
  PredictStreamRequestSchema,
  type PredictStreamResponse,
  PredictStreamResponseSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { Cancellation } from "../../server/batching/cancellation.js";
import type { CallContext, PredictionService } from "../../server/prediction-service.js";
import type { GrpcAdmission } from "../admission/load-shedding.js";
import { fromMlpipeError } from "../protocol-connect/error-interceptor.js";
import { encodeGrpcMessage } from "../protocol-grpc/grpc-message.js";
import { predictAnswer, predictBatchAnswer, streamAnswer, streamErrorAnswer } from "./inference-connect-service.js";

/** Serves a new HTTP/2 stream and returns true, or returns false to leave it to the request handler. */
export type StreamRoute = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

/** What the fast path calls: the prediction operations in their protobuf shapes, and the request counter. */
export interface GrpcFastPathHandlers {
  predict(req: PredictRequest, context: CallContext): Promise<PredictResponse>;
  predictBatch(req: PredictBatchRequest, context: CallContext): Promise<PredictBatchResponse>;
  /** Answers one PredictStream message; a rejection is answered as the message's StreamError. */
  predictStreamMessage(req: PredictStreamRequest, context: CallContext): Promise<PredictStreamResponse>;
  /** Counts an answered call (or stream message) in prediction_requests_total; `error` undefined for OK. */
  countRequest(error: unknown): void;
}

/** The fast path's handlers over the prediction service (what mlpipe's inference server serves). */
export function predictionHandlers(service: PredictionService): GrpcFastPathHandlers {
  return {
    predict: (req, context) => predictAnswer(service, req, context),
    predictBatch: (req, context) => predictBatchAnswer(service, req, context),
    predictStreamMessage: (req, context) => streamAnswer(service, req, context),
    countRequest: (error) => service.countRequest("grpc", error),
  };
}

/** Options of {@link createGrpcFastPath}. */
export interface GrpcFastPathOptions {
  readonly handlers: GrpcFastPathHandlers;
  readonly admission: GrpcAdmission;
  /** Largest request message in bytes (MAX_REQUEST_BYTES), compressed or not. */
  readonly maxRequestBytes: number;
  readonly logger: Logger;
}

const grpcContentType = /^application\/grpc(\+proto)?(;.*)?$/i;
const acceptEncoding = "identity,gzip,deflate";
const decompressors: Readonly<Record<string, (b: Uint8Array, o: { maxOutputLength: number }) => Promise<Buffer>>> = {
  gzip: promisify(gunzip),
  deflate: promisify(inflate),
};

/** The gRPC status headers (or trailers) of an error; anything not an MlpipeError is logged and becomes INTERNAL. */
function statusOf(err: unknown, procedure: string, logger: Logger): OutgoingHttpHeaders {
  let error: MlpipeError;
  if (err instanceof MlpipeError) {
    error = err;
    if (err.code === Code.Internal || err.code === Code.Unknown) {
      logger.error({ err: err.cause ?? err, procedure, id: err.id }, err.message);
    } else if (err.code === Code.Unavailable) {
      logger.warn({ err: err.cause ?? err, procedure, id: err.id }, err.message);
    }
  } else {
    logger.error({ err, procedure }, "unexpected error in handler");
    error = commonErrors.internal(err);
  }
  const headers = new Headers();
  setTrailerStatus(headers, fromMlpipeError(error));
  headers.set("grpc-message", encodeGrpcMessage(error.message));
  return Object.fromEntries(headers);
}

/** A request header's (first) value. */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The same bytes as a plain Uint8Array, not a Buffer: a Buffer's `slice` is a view, so the tensor
 * bytes decoded from it would later be "copied" by reference to the whole chunk. (The chunks of an
 * HTTP/2 stream are fresh memory per read; nothing writes to them after they are delivered.)
 */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** One length-prefixed gRPC message: its flags byte and payload. */
interface Frame {
  readonly compressed: boolean;
  readonly payload: Uint8Array;
}

/**
 * Splits the request body into gRPC messages as chunks arrive; refuses a message whose declared
 * length is above `limit` as soon as its prefix is read.
 */
class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly limit: number) {}

  /** Adds a chunk; returns the messages it completed. Throws REQUEST_TOO_LARGE. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= 5) {
      const head = this.chunks[0] !== undefined && this.chunks[0].length >= 5 ? this.chunks[0] : this.flatten();
      const length = head.readUInt32BE(1);
      if (length > this.limit) throw commonErrors.requestTooLarge(this.limit);
      if (this.buffered < 5 + length) break;
      const all = this.chunks.length === 1 ? head : this.flatten();
      frames.push({ compressed: ((all[0] ?? 0) & 1) === 1, payload: plain(all.subarray(5, 5 + length)) });
      const rest = all.subarray(5 + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  /** True when a message was started and not finished. */
  get partial(): boolean {
    return this.buffered > 0;
  }

  private flatten(): Buffer {
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }
}

/** The 5-byte prefix of an uncompressed gRPC message of `length` bytes. */
function prefix(length: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  return out;
}

/**
 * After the response is complete: a client still sending (a stream it has not half-closed, an
 * upload cut short by an error) is told to stop with RST_STREAM NO_ERROR, as RFC 9113 section 8.1
 * allows, instead of the server reading and discarding the rest.
 */
function stopReading(stream: ServerHttp2Stream): void {
  if (!stream.readableEnded && !stream.destroyed) stream.close(http2constants.NGHTTP2_NO_ERROR);
}

/** The state of one call, shared by the unary and streaming paths. */
class Call {
  readonly receivedAt = performance.now();
  readonly abort = new Cancellation();
  deadline: number | undefined;
  private headersSent = false;
  private finished = false;
  private trailers: OutgoingHttpHeaders = { "grpc-status": "0" };

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly procedure: string,
    private readonly logger: Logger,
  ) {
    stream.on("error", (err) => logger.debug({ err, procedure }, "gRPC stream error"));
    stream.once("close", () => {
      if (!this.finished) {
        this.finished = true;
        const late = this.deadline !== undefined && performance.now() >= this.deadline;
        this.abort.cancel(late ? commonErrors.deadlineExceeded() : commonErrors.canceled());
      }
    });
    stream.on("wantTrailers", () => {
      stream.sendTrailers(this.trailers);
      // On the next turn: the session writes the queued trailers in its own (native) immediate,
      // which runs first; an RST_STREAM submitted now would overtake them.
      setImmediate(() => stopReading(stream));
    });
  }

  get done(): boolean {
    return this.finished || this.stream.destroyed;
  }

  get context(): CallContext {
    return { receivedAt: this.receivedAt, deadline: this.deadline, signal: this.abort };
  }

  /** Sends one response message (the response headers first, once). */
  write(payload: Uint8Array): boolean {
    if (this.done) return true;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": acceptEncoding },
        { waitForTrailers: true },
      );
    }
    // Prefix and message as two writes rather than one copied buffer (a PredictBatch answer is
    // tens of KiB); HTTP/2 may carry them in separate DATA frames, which gRPC allows.
    this.stream.write(prefix(payload.byteLength));
    return this.stream.write(payload);
  }

  /** Ends the call with OK, or with `err`'s status (trailers-only when nothing was sent yet). */
  end(err?: unknown): void {
    if (this.done) return;
    this.finished = true;
    // Whatever the client still sends is not read any more.
    this.stream.resume();
    const status = err === undefined ? undefined : statusOf(err, this.procedure, this.logger);
    if (!this.headersSent) {
      if (status !== undefined) {
        this.stream.respond({ ":status": 200, "content-type": "application/grpc", ...status }, { endStream: true });
        stopReading(this.stream);
        return;
      }
      this.headersSent = true;
      this.stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": acceptEncoding },
        { waitForTrailers: true },
      );
    }
    if (status !== undefined) this.trailers = status;
    this.stream.end();
  }
}

/** Decodes one request message of `schema`; a payload that is not protobuf is INVALID_ARGUMENT. */
async function decode<D extends DescMessage>(
  schema: D,
  f: Frame,
  encoding: string | undefined,
  limit: number,
): Promise<MessageShape<D>> {
  let payload = f.payload;
  if (f.compressed) {
    const decompress = encoding === undefined ? undefined : decompressors[encoding];
    if (decompress === undefined) {
      throw commonErrors.invalidArgument("request", "a compressed message without a supported grpc-encoding");
    }
    try {
      payload = plain(await decompress(payload, { maxOutputLength: limit }));
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw commonErrors.requestTooLarge(limit);
      throw commonErrors.invalidArgument("request", `the ${encoding} message cannot be decompressed`);
    }
  }
  try {
    return fromBinary(schema, payload);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw commonErrors.invalidArgument("request", `not a valid ${schema.typeName} message (${reason})`);
  }
}

/**
 * Creates the stream route of the inference server's hot gRPC methods (see the module comment).
 */
export function createGrpcFastPath(options: GrpcFastPathOptions): StreamRoute {
  const { handlers, admission, logger } = options;
  const limit = options.maxRequestBytes;
  const path = (name: string): string => `/${InferenceService.typeName}/${name}`;
  const m = InferenceService.method;

  /** Reads the call's settings from its headers; throws for a bad timeout or encoding. */
  function setUp(call: Call, headers: IncomingHttpHeaders): string | undefined {
    const timeout = header(headers, "grpc-timeout");
    if (timeout !== undefined) {
      const parsed = parseTimeout(timeout, Number.MAX_SAFE_INTEGER);
      if (parsed.error !== undefined || parsed.timeoutMs === undefined) {
        throw commonErrors.invalidArgument("grpc-timeout", `invalid gRPC timeout ${JSON.stringify(timeout)}`);
      }
      call.deadline = call.receivedAt + parsed.timeoutMs;
    }
    const encoding = header(headers, "grpc-encoding");
    if (encoding === undefined || encoding === "identity") return undefined;
    if (decompressors[encoding] === undefined) throw commonErrors.unsupportedEncoding(encoding, acceptEncoding);
    return encoding;
  }

  function unary<I extends DescMessage, O extends DescMessage>(
    input: I,
    output: O,
    answer: (req: MessageShape<I>, context: CallContext) => Promise<MessageShape<O>>,
  ): (call: Call, encoding: string | undefined) => void {
    return (call, encoding) => {
      const reader = new FrameReader(limit);
      const frames: Frame[] = [];
      const fail = (err: unknown): void => {
        handlers.countRequest(err);
        call.end(err);
      };
      const onData = (chunk: Buffer): void => {
        try {
          frames.push(...reader.push(chunk));
          if (frames.length > 1) throw commonErrors.invalidArgument("request", "a unary call carries one message");
        } catch (err) {
          call.stream.off("data", onData);
          fail(err);
        }
      };
      call.stream.on("data", onData);
      call.stream.once("end", () => {
        if (call.done) return;
        const only = frames[0];
        if (only === undefined || reader.partial) {
          fail(commonErrors.invalidArgument("request", "the call ended before a whole request message arrived"));
          return;
        }
        decode(input, only, encoding, limit)
          .then((req) => answer(req, call.context))
          .then((res) => {
            handlers.countRequest(undefined);
            call.write(toBinary(output, res));
            call.end();
          }, fail);
      });
    };
  }

  function predictStream(call: Call, encoding: string | undefined): void {
    const { stream } = call;
    const reader = new FrameReader(limit);
    let pending = 0;
    let inputDone = false;
    // Messages decode in order (decompression is asynchronous), answers go out as they complete.
    let decoding: Promise<void> = Promise.resolve();
    const finishIfDone = (): void => {
      if (inputDone && pending === 0) call.end();
    };
    const fail = (err: unknown): void => {
      handlers.countRequest(err);
      call.abort.cancel(err);
      call.end(err);
    };
    const timer =
      call.deadline === undefined
        ? undefined
        : setTimeout(() => fail(commonErrors.deadlineExceeded()), Math.max(0, call.deadline - call.receivedAt));
    stream.once("close", () => clearTimeout(timer));
    const reply = (req: PredictStreamRequest, receivedAt: number): void => {
      pending++;
      handlers
        .predictStreamMessage(req, { ...call.context, receivedAt })
        .then(
          (r) => {
            handlers.countRequest(undefined);
            return r;
          },
          (err: unknown) => {
            handlers.countRequest(err);
            return streamErrorAnswer(req, err);
          },
        )
        .then((r) => {
          pending--;
          if (call.done) return;
          // The client reads slower than it sends: stop reading until the answers drain.
          if (!call.write(toBinary(PredictStreamResponseSchema, r)) && !stream.isPaused()) {
            stream.pause();
            stream.once("drain", () => stream.resume());
          }
          finishIfDone();
        });
    };
    stream.on("data", (chunk: Buffer) => {
      if (call.done) return;
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        fail(err);
        return;
      }
      for (const f of frames) {
        const receivedAt = performance.now();
        decoding = decoding.then(async () => {
          if (call.done) return;
          try {
            reply(await decode(PredictStreamRequestSchema, f, encoding, limit), receivedAt);
          } catch (err) {
            fail(err);
          }
        });
      }
    });
    stream.once("end", () => {
      void decoding.then(() => {
        if (call.done) return;
        if (reader.partial) {
          fail(commonErrors.invalidArgument("request", "the stream ended inside a request message"));
          return;
        }
        inputDone = true;
        finishIfDone();
      });
    });
  }

  const routes = new Map<string, (call: Call, encoding: string | undefined) => void>([
    [
      path(m.predict.name),
      unary(PredictRequestSchema, PredictResponseSchema, (req, ctx) => handlers.predict(req, ctx)),
    ],
    [
      path(m.predictBatch.name),
      unary(PredictBatchRequestSchema, PredictBatchResponseSchema, (req, ctx) => handlers.predictBatch(req, ctx)),
    ],
    [path(m.predictStream.name), predictStream],
  ]);

  return (stream, headers) => {
    const procedure = headers[":path"];
    const contentType = headers["content-type"];
    if (headers[":method"] !== "POST" || typeof contentType !== "string" || !grpcContentType.test(contentType)) {
      return false;
    }
    const route = procedure === undefined ? undefined : routes.get(procedure);
    if (route === undefined || procedure === undefined) return false;
    const refusal = admission.admit();
    if (refusal !== undefined) {
      stream.on("error", () => undefined);
      stream.resume();
      stream.respond({ ":status": 200, "content-type": contentType, ...refusal }, { endStream: true });
      stopReading(stream);
      return true;
    }
    stream.once("close", () => admission.release());
    const call = new Call(stream, procedure, logger);
    let encoding: string | undefined;
    try {
      encoding = setUp(call, headers);
    } catch (err) {
      handlers.countRequest(err);
      call.end(err);
      return true;
    }
    route(call, encoding);
    return true;
  };
}
