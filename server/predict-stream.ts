/**
 * The orchestration of a PredictStream, written once for every transport that serves one (the
 * gRPC fast path, the Connect service): messages are taken in the order they arrive; each is
 * answered as soon as its own prediction is done (answers may overtake one another, each names
 * its request_id); a message that fails is answered with its error inside the stream and the
 * stream goes on; the stream ends with OK once the client has finished sending and nothing is
 * pending. The stream itself fails, ending with a status, when its input does (a broken frame, a
 * message that is not protobuf), when its deadline passes, or when its client goes away.
 */
import { commonErrors, MlpipeError } from "../core/errors/index.js";
import type { CallContext } from "./call-context.js";

/** Where a stream's answers go: the transport's side of the response. `A` is an answer message. */
export interface PredictStreamSink<A> {
  /** Sends one answer; false when the client reads slower than answers come (the send buffer is full). */
  send(answer: A): boolean;
  /**
   * Called after `send` returned false (the backpressure hook): the transport stops reading
   * messages until its send buffer drains, so that a client that does not read cannot make the
   * server buffer answers without bound.
   */
  pauseInput?(): void;
  /** Ends the stream, once: with OK (`err` undefined), or with the stream's failure. */
  end(err?: unknown): void;
}

/** What the transport feeds a stream with as its messages arrive. `M` is a request message. */
export interface PredictStreamInput<M> {
  /**
   * A message arrived at `receivedAt` (`performance.now()`); a promise while it is still being
   * decoded (decompression is asynchronous). Messages are taken in the order pushed; one whose
   * promise rejects fails the stream.
   */
  push(message: M | Promise<M>, receivedAt: number): void;
  /** The client has finished sending: the stream ends once every message is answered. */
  end(): void;
  /** The input failed (a truncated or oversized frame, a client error): the stream ends with `err`. */
  fail(err: unknown): void;
}

/** Options of {@link runPredictStream}: how each message is answered, and where answers go. */
export interface PredictStreamOptions<M, A> extends PredictStreamSink<A> {
  /** Answers one message with its own context (its arrival time); a rejection goes to `errorAnswer`. */
  answer(message: M, context: CallContext): Promise<A>;
  /** The answer to a message that failed: its error, inside the stream. */
  errorAnswer(message: M, err: unknown): A;
}

/**
 * Starts a stream of `context` (see the module comment) and returns its input. When the context
 * has a deadline, the stream fails with DEADLINE_EXCEEDED once it passes, whether or not the
 * client is still sending; when its signal aborts, with the signal's reason (CANCELED, or
 * DEADLINE_EXCEEDED past the deadline, when the reason is not an MlpipeError).
 */
export function runPredictStream<M, A>(
  context: CallContext,
  options: PredictStreamOptions<M, A>,
): PredictStreamInput<M> {
  let pending = 0;
  let inputDone = false;
  let finished = false;
  // Messages still being decoded, and the promise that settles after the last of them (in order).
  let decoding = 0;
  let decoded: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopWatching: (() => void) | undefined;

  const finish = (err?: unknown): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    stopWatching?.();
    options.end(err);
  };
  const finishIfDone = (): void => {
    if (inputDone && pending === 0) finish();
  };
  const deliver = (answer: A): void => {
    pending--;
    if (finished) return;
    if (!options.send(answer)) options.pauseInput?.();
    finishIfDone();
  };
  const answerOne = (message: M, receivedAt: number): void => {
    if (finished) return;
    pending++;
    let answered: Promise<A>;
    try {
      answered = options.answer(message, { ...context, receivedAt });
    } catch (err) {
      answered = Promise.reject(err);
    }
    answered.catch((err: unknown) => options.errorAnswer(message, err)).then(deliver);
  };

  const { deadline, signal } = context;
  if (deadline !== undefined) {
    const receivedAt = context.receivedAt ?? performance.now();
    timer = setTimeout(() => finish(commonErrors.deadlineExceeded()), Math.max(0, deadline - receivedAt));
  }
  if (signal !== undefined) {
    const onAbort = (): void => {
      if (signal.reason instanceof MlpipeError) finish(signal.reason);
      else if (deadline !== undefined && performance.now() >= deadline) finish(commonErrors.deadlineExceeded());
      else finish(commonErrors.canceled());
    };
    if (signal.aborted) onAbort();
    else stopWatching = signal.onAbort(onAbort);
  }

  return {
    push(message, receivedAt) {
      if (finished) {
        // A message still decoding after the stream has ended: its failure has no one left to tell
        // (unobserved, the rejection would take the process down).
        if (message instanceof Promise) message.catch(() => {});
        return;
      }
      if (!(message instanceof Promise) && decoding === 0) {
        answerOne(message, receivedAt);
        return;
      }
      decoding++;
      decoded = decoded
        .then(() => message)
        .then(
          (m) => {
            decoding--;
            answerOne(m, receivedAt);
          },
          (err: unknown) => {
            decoding--;
            finish(err);
          },
        );
    },
    end() {
      if (decoding === 0) {
        inputDone = true;
        finishIfDone();
        return;
      }
      decoded = decoded.then(() => {
        inputDone = true;
        finishIfDone();
      });
    },
    fail: finish,
  };
}
