/**
 * A version probe: one extra gRPC Predict caller that, unlike the load callers of
 * inference-clients.ts, decodes every answer (protobuf-es `fromBinary`) to read the
 * `model_version` that answered. It sends its next request as soon as the previous one answers,
 * so it sees a switch within one request's latency of it, through the same path real requests
 * take (not a side channel such as GET /model/info).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { PredictRequestSchema, PredictResponseSchema } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { requestTimeoutMs } from "./inference-clients.js";
import { errorCodeOf, sleep } from "./load-generator.js";

/** A running probe. */
export interface VersionProbe {
  /**
   * Resolves with the `performance.now()` time at which the first answer naming `version` arrived
   * after this call (ms), or undefined when none came within `timeoutMs`. Call it before the
   * action that should bring the version, so that an early answer is not missed.
   */
  waitFor(version: string, timeoutMs: number): Promise<number | undefined>;
  /** Answers received. */
  answers(): number;
  /**
   * Answers that named an older version than one the probe had already seen (versions are
   * compared as numbers): after a switch, no request may be answered by the previous version.
   */
  staleAnswers(): number;
  /** Failed requests by error code. */
  errors(): Readonly<Record<string, number>>;
  /** Stops sending and closes the channel once the request in flight answered. */
  stop(): Promise<void>;
}

interface Waiter {
  readonly version: string;
  readonly resolve: (at: number | undefined) => void;
}

/** Starts probing the inference server at `url` (http://host:port) with Predict on `row`. */
export function startVersionProbe(url: string, row: readonly number[]): VersionProbe {
  const client = new grpc.Client(new URL(url).host, grpc.credentials.createInsecure());
  const body = Buffer.from(toBinary(PredictRequestSchema, create(PredictRequestSchema, { features: [...row] })));
  const decodeVersion = (b: Buffer): string => fromBinary(PredictResponseSchema, b).modelVersion;
  const waiters = new Set<Waiter>();
  const errors: Record<string, number> = {};
  let answers = 0;
  let stale = 0;
  let highest = Number.NEGATIVE_INFINITY;
  let stopped = false;

  const predict = (): Promise<string> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        "/mlpipe.inference.v1.InferenceService/Predict",
        (b: Buffer) => b,
        decodeVersion,
        body,
        { deadline: Date.now() + requestTimeoutMs },
        (err, version) => (err || version === undefined ? reject(err) : resolve(version)),
      );
    });

  const loop = (async () => {
    while (!stopped) {
      try {
        const version = await predict();
        const at = performance.now();
        answers++;
        const n = Number(version);
        if (n < highest) stale++;
        else highest = n;
        for (const w of waiters) {
          if (w.version !== version) continue;
          waiters.delete(w);
          w.resolve(at);
        }
      } catch (err) {
        const code = errorCodeOf(err);
        errors[code] = (errors[code] ?? 0) + 1;
        // A probe that fails at once must not spin the event loop.
        await sleep(1);
      }
    }
  })();

  return {
    waitFor(version, timeoutMs) {
      return new Promise((resolve) => {
        const waiter: Waiter = {
          version,
          resolve: (at) => {
            clearTimeout(timer);
            resolve(at);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          resolve(undefined);
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    answers: () => answers,
    staleAnswers: () => stale,
    errors: () => errors,
    async stop() {
      stopped = true;
      await loop;
      client.close();
      for (const w of waiters) w.resolve(undefined);
      waiters.clear();
    },
  };
}
