/**
 * The standard gRPC health service (grpc.health.v1.Health) of the inference server: "" and the
 * InferenceService name are SERVING while the server is ready; Check on any other name is
 * NOT_FOUND, Watch on it streams SERVICE_UNKNOWN (as the protocol asks).
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { inferenceErrors } from "../core/errors/index.js";
import {
  type Health,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
} from "../gen/grpc/health/v1/health_pb.js";
import { InferenceService } from "../gen/mlpipe/inference/v1/inference_pb.js";
import type { Readiness } from "./inference-readiness.js";

function response(status: Status): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}

/**
 * Implements Health over a readiness status for the server as a whole ("") and for `services`
 * (fully-qualified names; default the InferenceService). The registry uses it too, with its own.
 */
export function createHealthService(
  readiness: Readiness,
  services: readonly string[] = [InferenceService.typeName],
): ServiceImpl<typeof Health> {
  const known = new Set(["", ...services]);
  return {
    check(req) {
      if (!known.has(req.service)) throw inferenceErrors.healthServiceUnknown(req.service);
      return response(readiness.serving ? Status.SERVING : Status.NOT_SERVING);
    },
    async *watch(req, ctx) {
      if (!known.has(req.service)) {
        yield response(Status.SERVICE_UNKNOWN);
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        return;
      }
      const changes: boolean[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = readiness.subscribe((serving) => {
        changes.push(serving);
        wake?.();
      });
      const onAbort = (): void => wake?.();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      try {
        yield response(readiness.serving ? Status.SERVING : Status.NOT_SERVING);
        while (!ctx.signal.aborted) {
          const next = changes.shift();
          if (next === undefined) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
            continue;
          }
          yield response(next ? Status.SERVING : Status.NOT_SERVING);
        }
      } finally {
        unsubscribe();
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
