import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { describe, expect, it } from "vitest";
import { Code, commonErrors, inferenceErrors } from "../../core/errors/index.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { grpcStatusHeaders, setGrpcStatus } from "./grpc-status.js";

/** The status as connect-es's gRPC client reads it (from grpc-status-details-bin when present). */
function statusOf(headers: Headers | Record<string, string>) {
  const err = findTrailerError(headers instanceof Headers ? headers : new Headers(headers));
  return { code: err?.code, message: err?.rawMessage, detail: err?.findDetails(ErrorDetailSchema)[0] };
}

describe("grpcStatusHeaders", () => {
  it("carries the code, the spec-encoded message and the ErrorDetail", () => {
    const err = commonErrors.invalidArgument("features[0]", 'must be a number, not "a/b" 100%');
    const headers = grpcStatusHeaders(err);
    expect(headers["grpc-status"]).toBe(String(Code.InvalidArgument));
    expect(headers["grpc-message"]).toBe('invalid features[0]: must be a number, not "a/b" 100%25');
    const status = statusOf(headers);
    expect(status.code).toBe(Code.InvalidArgument);
    expect(status.message).toBe(err.message);
    expect(status.detail).toMatchObject({ id: "INVALID_ARGUMENT", field: "features[0]" });
  });

  it("answers with another code where the protocol says so, keeping the error's id", () => {
    const headers = grpcStatusHeaders(commonErrors.notFoundRoute("/x.Y/Z"), Code.Unimplemented);
    expect(headers["grpc-status"]).toBe(String(Code.Unimplemented));
    expect(statusOf(headers).detail).toMatchObject({ id: "ROUTE_NOT_FOUND" });
  });
});

describe("setGrpcStatus", () => {
  it("replaces the status fields of existing trailers and keeps the others", () => {
    const trailers = new Headers({
      "grpc-status": "13",
      "grpc-message": "parse%20binary",
      "grpc-status-details-bin": "AAAA",
      "x-custom": "kept",
    });
    setGrpcStatus(trailers, inferenceErrors.overloaded("too many requests in flight"));
    expect(trailers.get("grpc-status")).toBe(String(Code.ResourceExhausted));
    expect(trailers.get("x-custom")).toBe("kept");
    expect(statusOf(trailers).detail?.id).toBe("INFERENCE_OVERLOADED");
  });
});
