import { describe, expect, it } from "vitest";
import { Code, commonErrors, trackingErrors } from "../../core/errors/index.js";
import { createLogger } from "../../core/logger.js";
import { captureLog } from "../../test/support/captured-log.js";
import { callerError } from "./error-policy.js";

function setup(level: "debug" | "info" = "debug") {
  const { lines, destination } = captureLog();
  return { lines, logger: createLogger({ level, destination }) };
}

const context = { procedure: "/mlpipe.tracking.v1.TrackingService/GetRun" };

describe("callerError", () => {
  it("tells a client error as it is and logs it at debug only", () => {
    const { lines, logger } = setup();
    const err = trackingErrors.runNotFound("r1");
    expect(callerError(err, context, logger)).toBe(err);
    expect(lines).toMatchObject([{ level: "debug", procedure: context.procedure, id: err.id, msg: err.message }]);
    const quiet = setup("info");
    callerError(err, context, quiet.logger);
    expect(quiet.lines).toEqual([]);
  });

  it("warns an UNAVAILABLE error with its cause", () => {
    const { lines, logger } = setup();
    const err = commonErrors.databaseUnavailable(new Error("ECONNREFUSED 127.0.0.1:5432"));
    expect(callerError(err, context, logger)).toBe(err);
    expect(lines).toMatchObject([
      { level: "warn", id: "DATABASE_UNAVAILABLE", err: { message: "ECONNREFUSED 127.0.0.1:5432" } },
    ]);
  });

  it("logs an INTERNAL error with its cause", () => {
    const { lines, logger } = setup();
    const err = commonErrors.internal(new Error("boom"));
    expect(callerError(err, context, logger).code).toBe(Code.Internal);
    expect(lines).toMatchObject([{ level: "error", err: { message: "boom" } }]);
  });

  it("turns anything else into a generic INTERNAL, logging the real error", () => {
    const { lines, logger } = setup();
    const told = callerError(new TypeError("x is undefined"), context, logger);
    expect(told).toMatchObject({ code: Code.Internal, id: "INTERNAL", message: "internal error" });
    expect(lines).toMatchObject([
      { level: "error", msg: "unexpected error in handler", err: { message: "x is undefined" } },
    ]);
  });

  it("calls anything else after the client left a cancellation", () => {
    const { lines, logger } = setup();
    const told = callerError(new Error("socket closed"), { ...context, signal: { aborted: true } }, logger);
    expect(told).toMatchObject({ code: Code.Canceled, id: "CANCELED" });
    expect(lines).toMatchObject([{ level: "debug", msg: "call canceled" }]);
  });
});
