/**
 * One gRPC call served straight on a Node HTTP/2 stream (no compatibility API, no connect-node):
 * reading its request messages, writing its response messages, and ending it with a status in
 * trailers, or in a trailers-only response when nothing was sent yet, as the gRPC HTTP/2 spec
 * lays out (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md). Errors are told and
 * logged by the edge's one policy (protocol/error-policy.ts) and encoded by grpc-status.ts.
 */
import { constants as http2constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { commonErrors } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { Cancellation } from "../../server/batching/cancellation.js";
import type { CallContext } from "../../server/call-context.js";
import { callerError } from "../protocol/error-policy.js";
import { type Frame, FrameReader } from "./frame-reader.js";
import { grpcStatusHeaders } from "./grpc-status.js";
import { acceptEncoding } from "./message-encoding.js";
import { messagePrefix } from "./message-prefix.js";

/**
 * After the response is complete: a client still sending (a stream it has not half-closed, an
 * upload cut short by an error) is told to stop with RST_STREAM NO_ERROR, as RFC 9113 section 8.1
 * allows, instead of the server reading and discarding the rest.
 */
function stopReading(stream: ServerHttp2Stream): void {
  if (!stream.readableEnded && !stream.destroyed) stream.close(http2constants.NGHTTP2_NO_ERROR);
}

/**
 * Answers a stream with one HEADERS frame carrying END_STREAM (gRPC's trailers-only response, as
 * for an error before any message), discarding whatever the client sends.
 */
export function respondTrailersOnly(stream: ServerHttp2Stream, headers: OutgoingHttpHeaders): void {
  stream.on("error", () => undefined);
  stream.resume();
  stream.respond({ ":status": 200, ...headers }, { endStream: true });
  stopReading(stream);
}

const responseHeaders = { ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": acceptEncoding };

/** The state of one call on an HTTP/2 stream, for unary and streaming methods alike. */
export class GrpcStreamCall {
  /** When the call arrived, on the `performance.now()` clock. */
  readonly receivedAt = performance.now();
  /** Fires when the client goes away (CANCELED, or DEADLINE_EXCEEDED past the deadline) or the call fails. */
  readonly abort = new Cancellation();
  /** Absolute deadline (`performance.now()` clock, ms) from `grpc-timeout`; undefined for none. */
  deadline: number | undefined;
  private headersSent = false;
  private finished = false;
  private trailers: OutgoingHttpHeaders = { "grpc-status": "0" };

  constructor(
    readonly stream: ServerHttp2Stream,
    /** "/mlpipe.inference.v1.InferenceService/Predict", for the log. */
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

  /** True once the call ended (answered, failed, or its stream closed). */
  get done(): boolean {
    return this.finished || this.stream.destroyed;
  }

  /** The call as the data plane sees it: protocol "grpc", arrival, deadline and cancellation. */
  get context(): CallContext {
    return { protocol: "grpc", receivedAt: this.receivedAt, deadline: this.deadline, signal: this.abort };
  }

  /**
   * Resolves with the one message of a unary call once the client half-closes. Rejects with
   * INVALID_ARGUMENT for a second message, none, or a truncated one, REQUEST_TOO_LARGE as soon as
   * a prefix announces more than `limit` bytes, and with the reason of the call's cancellation.
   */
  readUnary(limit: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const reader = new FrameReader(limit);
      let only: Frame | undefined;
      const stopWatching = this.abort.onAbort(() => reject(this.abort.reason));
      const onData = (chunk: Buffer): void => {
        try {
          for (const f of reader.push(chunk)) {
            if (only !== undefined) throw commonErrors.invalidArgument("request", "a unary call carries one message");
            only = f;
          }
        } catch (err) {
          this.stream.off("data", onData);
          stopWatching();
          reject(err);
        }
      };
      this.stream.on("data", onData);
      this.stream.once("end", () => {
        stopWatching();
        if (only === undefined || reader.partial) {
          reject(commonErrors.invalidArgument("request", "the call ended before a whole request message arrived"));
          return;
        }
        resolve(only);
      });
    });
  }

  /**
   * Reads the messages of a streaming call as they arrive: `onMessage` for each, then `onEnd` when
   * the client half-closes, or `onError` once (REQUEST_TOO_LARGE for an oversized prefix,
   * INVALID_ARGUMENT for a stream that ends inside a message). Nothing is reported once the call is done.
   */
  readMessages(
    limit: number,
    onMessage: (frame: Frame) => void,
    onEnd: () => void,
    onError: (err: unknown) => void,
  ): void {
    const reader = new FrameReader(limit);
    this.stream.on("data", (chunk: Buffer) => {
      if (this.done) return;
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        onError(err);
        return;
      }
      for (const f of frames) onMessage(f);
    });
    this.stream.once("end", () => {
      if (this.done) return;
      if (reader.partial) onError(commonErrors.invalidArgument("request", "the stream ended inside a request message"));
      else onEnd();
    });
  }

  /** Sends one response message (the response headers first, once); false when the stream's buffer is full. */
  write(payload: Uint8Array): boolean {
    if (this.done) return true;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(responseHeaders, { waitForTrailers: true });
    }
    // Prefix and message as two writes rather than one copied buffer (a PredictBatch answer is
    // tens of KiB); HTTP/2 may carry them in separate DATA frames, which gRPC allows.
    this.stream.write(messagePrefix(payload.byteLength));
    return this.stream.write(payload);
  }

  /** Ends the call with OK, or with `err`'s status (trailers-only when nothing was sent yet). */
  end(err?: unknown): void {
    if (this.done) return;
    this.finished = true;
    // Whatever the client still sends is not read any more.
    this.stream.resume();
    const status =
      err === undefined
        ? undefined
        : grpcStatusHeaders(callerError(err, { procedure: this.procedure, signal: this.abort }, this.logger));
    if (!this.headersSent) {
      if (status !== undefined) {
        this.stream.respond({ ":status": 200, "content-type": "application/grpc", ...status }, { endStream: true });
        stopReading(this.stream);
        return;
      }
      this.headersSent = true;
      this.stream.respond(responseHeaders, { waitForTrailers: true });
    }
    if (status !== undefined) this.trailers = status;
    this.stream.end();
  }
}
