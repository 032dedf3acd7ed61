import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag } from "@connectrpc/connect/protocol-grpc-web";
import { describe, expect, it } from "vitest";
import { Code, commonErrors } from "../../core/errors/index.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { grpcWebErrorFrame, parseTrailerFrame } from "./trailer-frame.js";

describe("grpcWebErrorFrame", () => {
  it("is one trailer envelope with gRPC's status fields and the other trailers", () => {
    const err = commonErrors.invalidArgument("request", "not a valid x.Y message (premature EOF)");
    const frame = grpcWebErrorFrame(err, new Headers({ "x-kept": "1", "grpc-status": "13" }));
    expect(frame[0]).toBe(trailerFlag);
    expect(Buffer.from(frame).readUInt32BE(1)).toBe(frame.byteLength - 5);
    const trailers = parseTrailerFrame(frame.subarray(5));
    expect(trailers.get("x-kept")).toBe("1");
    const decoded = findTrailerError(trailers);
    expect(decoded?.code).toBe(Code.InvalidArgument);
    expect(decoded?.rawMessage).toBe(err.message);
    expect(decoded?.findDetails(ErrorDetailSchema)[0]).toMatchObject({ id: "INVALID_ARGUMENT", field: "request" });
  });
});
