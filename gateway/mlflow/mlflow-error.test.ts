import { describe, expect, it } from "vitest";
import { Code, commonErrors, MlpipeError } from "../../core/errors/index.js";
import { mlflowErrorResponse } from "./mlflow-error.js";

function answer(err: MlpipeError) {
  const { status, headers, body } = mlflowErrorResponse(err);
  return { status, headers, body: JSON.parse(Buffer.from(body).toString("utf8")) as Record<string, unknown> };
}

describe("MLflow error responses", () => {
  it("tells each code with MLflow's error_code and HTTP status", () => {
    const cases: [Code, string, number][] = [
      [Code.InvalidArgument, "INVALID_PARAMETER_VALUE", 400],
      [Code.FailedPrecondition, "INVALID_PARAMETER_VALUE", 400],
      [Code.NotFound, "RESOURCE_DOES_NOT_EXIST", 404],
      [Code.AlreadyExists, "RESOURCE_ALREADY_EXISTS", 400],
      [Code.PermissionDenied, "PERMISSION_DENIED", 403],
      [Code.Unauthenticated, "UNAUTHENTICATED", 401],
      [Code.ResourceExhausted, "RESOURCE_EXHAUSTED", 429],
      [Code.Unavailable, "TEMPORARILY_UNAVAILABLE", 503],
      [Code.DeadlineExceeded, "DEADLINE_EXCEEDED", 504],
      [Code.Internal, "INTERNAL_ERROR", 500],
    ];
    for (const [code, errorCode, status] of cases) {
      const told = answer(new MlpipeError(code, "TEST_ERROR", "what happened"));
      expect(told).toMatchObject({ status, body: { error_code: errorCode, message: "what happened" } });
      expect(told.headers["content-type"]).toBe("application/json");
    }
  });

  it("tells an unknown route as ENDPOINT_NOT_FOUND and an oversized body as 413 on a closing connection", () => {
    expect(answer(commonErrors.notFoundRoute("GET /api/2.0/mlflow/x"))).toMatchObject({
      status: 404,
      body: { error_code: "ENDPOINT_NOT_FOUND" },
    });
    const big = answer(commonErrors.requestTooLarge(5));
    expect(big).toMatchObject({ status: 413, body: { error_code: "INVALID_PARAMETER_VALUE" } });
    expect(big.headers.connection).toBe("close");
  });

  it("tells a body that did not arrive in time as 408 on a closing connection", () => {
    const late = answer(commonErrors.requestTimeout(2000));
    expect(late).toMatchObject({ status: 408, body: { error_code: "DEADLINE_EXCEEDED" } });
    expect(late.headers.connection).toBe("close");
  });
});
