import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { commonErrors } from "../../core/errors/common-errors.js";
import { trackingErrors } from "../../core/errors/tracking-errors.js";
import { createLogger } from "../../core/logger.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { SqlConstraintError } from "../../storage/sql/sql-client.js";
import { captureLog } from "../../test/support/captured-log.js";
import { createErrorInterceptor } from "./error-interceptor.js";

/**
 * The interceptor on an in-memory router: handlers that fail in each way a handler can, called
 * through a real Connect client (serialization, status and details as on the wire).
 */
function setup() {
  const { lines, destination } = captureLog();
  const logger = createLogger({ level: "debug", destination });
  const constraint = new SqlConstraintError("23505", "experiments_active_name_key", {
    cause: new Error("duplicate key value"),
  });
  const transport = createRouterTransport(
    (router) =>
      router.service(TrackingService, {
        getExperiment(req) {
          if (req.experimentId === "1") throw trackingErrors.experimentNotFound("1");
          if (req.experimentId === "2") throw constraint;
          if (req.experimentId === "3") throw new ConnectError("from the protocol layer", Code.PermissionDenied);
          throw commonErrors.databaseUnavailable(new Error("ECONNREFUSED 127.0.0.1:5432"));
        },
        async *downloadArtifact(req) {
          yield { content: { case: "chunk", value: new Uint8Array([1]) } };
          if (req.path === "mlpipe") throw trackingErrors.artifactNotFound(req.runId, req.path);
          throw new TypeError("bug while streaming");
        },
        async uploadArtifact(requests) {
          for await (const r of requests) {
            if (r.content.case === "header") throw commonErrors.invalidArgument("header", "only the first");
          }
          return {};
        },
      }),
    { router: { interceptors: [createErrorInterceptor(logger)] } },
  );
  return { client: createClient(TrackingService, transport), lines };
}

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

async function drain(iterable: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of iterable) {
    // consume
  }
}

describe("createErrorInterceptor", () => {
  it("keeps an MlpipeError's code and message and adds the ErrorDetail", async () => {
    const { client } = setup();
    const err = await failure(client.getExperiment({ experimentId: "1" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe("experiment 1 does not exist");
    expect(err.findDetails(ErrorDetailSchema)).toMatchObject([{ id: "TRACKING_EXPERIMENT_NOT_FOUND", field: "" }]);
  });

  it("turns an unmapped error into INTERNAL without leaking it, and logs its cause", async () => {
    const { client, lines } = setup();
    const err = await failure(client.getExperiment({ experimentId: "2" }));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error");
    expect(err.findDetails(ErrorDetailSchema)).toMatchObject([{ id: "INTERNAL" }]);
    const logged = lines.find((l) => l.level === "error");
    expect(JSON.stringify(logged)).toContain("23505");
    expect(logged?.procedure).toBe("/mlpipe.tracking.v1.TrackingService/GetExperiment");
  });

  it("passes a ConnectError through", async () => {
    const { client } = setup();
    const err = await failure(client.getExperiment({ experimentId: "3" }));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toBe("from the protocol layer");
  });

  it("logs UNAVAILABLE with its cause and returns the catalogued message", async () => {
    const { client, lines } = setup();
    const err = await failure(client.getExperiment({ experimentId: "4" }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toContain("metadata database is unavailable");
    expect(JSON.stringify(lines.find((l) => l.level === "warn"))).toContain("ECONNREFUSED");
  });

  it("translates errors raised while a server stream is iterated", async () => {
    const { client } = setup();
    const known = await failure(drain(client.downloadArtifact({ runId: "r", path: "mlpipe" })));
    expect(known.code).toBe(Code.NotFound);
    expect(known.findDetails(ErrorDetailSchema)).toMatchObject([{ id: "TRACKING_ARTIFACT_NOT_FOUND", field: "path" }]);
    const bug = await failure(drain(client.downloadArtifact({ runId: "r", path: "other" })));
    expect(bug.code).toBe(Code.Internal);
    expect(bug.rawMessage).toBe("internal error");
  });

  it("translates errors raised while a client stream is consumed", async () => {
    const { client } = setup();
    async function* requests() {
      yield { content: { case: "chunk" as const, value: new Uint8Array([1]) } };
      yield { content: { case: "header" as const, value: { runId: "r", path: "p" } } };
    }
    const err = await failure(client.uploadArtifact(requests()));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.findDetails(ErrorDetailSchema)).toMatchObject([{ id: "INVALID_ARGUMENT", field: "header" }]);
  });
});
