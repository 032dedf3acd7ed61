import { endStreamFlag, endStreamFromJson, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { describe, expect, it } from "vitest";
import { Code, commonErrors, inferenceErrors } from "../../core/errors/index.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { connectErrorOf } from "../protocol/connect-error.js";
import { connectEndStreamFrame, connectUnaryError } from "./connect-error-body.js";

describe("connectUnaryError", () => {
  it.each([
    [commonErrors.invalidArgument("features", "bad"), 400],
    [inferenceErrors.overloaded("too many requests in flight"), 429],
    [commonErrors.notFoundRoute("/x"), 404],
    [inferenceErrors.shuttingDown(), 503],
    // Connect's table, not the JSON routes' 413: a Connect client reads the code from the body.
    [commonErrors.requestTooLarge(10), 429],
  ])("%s is HTTP %d with the Connect JSON error", (err, status) => {
    const encoded = connectUnaryError(err);
    expect(encoded.status).toBe(status);
    const decoded = errorFromJsonBytes(encoded.body, undefined, connectErrorOf(commonErrors.internal()));
    expect(decoded.code).toBe(err.code);
    expect(decoded.rawMessage).toBe(err.message);
    expect(decoded.findDetails(ErrorDetailSchema)).toMatchObject([{ id: err.id, field: err.field ?? "" }]);
  });
});

describe("connectEndStreamFrame", () => {
  it("is one end-of-stream envelope carrying the error and the trailers", () => {
    const frame = connectEndStreamFrame(inferenceErrors.overloaded("x"), new Headers({ "x-trailer": "t" }));
    expect(frame[0]).toBe(endStreamFlag);
    expect(Buffer.from(frame).readUInt32BE(1)).toBe(frame.byteLength - 5);
    const end = endStreamFromJson(frame.subarray(5));
    expect(end.error?.code).toBe(Code.ResourceExhausted);
    expect(end.error?.findDetails(ErrorDetailSchema)[0]?.id).toBe("INFERENCE_OVERLOADED");
    expect(end.metadata.get("x-trailer")).toBe("t");
  });
});
