/**
 * The standard gRPC health service (grpc.health.v1.Health) of a server: "" and its services' names
 * (the InferenceService's, or the tracking and registry services') are SERVING while it is ready; Check on any other name is
 * NOT_FOUND, Watch on it streams SERVICE_UNKNOWN (as the protocol asks).
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { inferenceErrors } from "../../core/errors/index.js";
import {
  type Health,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/grpc/health/v1/health_pb.js";
import { InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createAsyncQueue } from "../protocol-connect/async-queue.js";
import type { Readiness } from "./readiness.js";

function response(status: Status): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}

const statusOf = (serving: boolean): Status => (serving ? Status.SERVING : Status.NOT_SERVING);

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
      return response(statusOf(readiness.serving));
    },
    async *watch(req, ctx) {
      // Every change from now on, until the client goes away.
      const changes = createAsyncQueue<HealthCheckResponse>();
      const onAbort = (): void => changes.close();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      if (ctx.signal.aborted) changes.close();
      const unsubscribe = known.has(req.service)
        ? readiness.subscribe((serving) => changes.push(response(statusOf(serving))))
        : undefined;
      try {
        yield response(unsubscribe === undefined ? Status.SERVICE_UNKNOWN : statusOf(readiness.serving));
        yield* changes;
      } finally {
        unsubscribe?.();
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
