/**
 * The standard gRPC health service (grpc.health.v1.Health) of the inference server: "" and the
 * InferenceService name are SERVING while the server is ready; Check on any other name is
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
import type { Readiness } from "./inference-readiness.js";

const known = new Set(["", InferenceService.typeName]);

function response(status: Status): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}

const statusOf = (serving: boolean): Status => (serving ? Status.SERVING : Status.NOT_SERVING);

/** Implements Health over a readiness status. */
export function createHealthService(readiness: Readiness): ServiceImpl<typeof Health> {
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
