import { Code as ConnectCode, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../core/config.js";
import { registryErrors } from "../core/errors/registry-errors.js";
import { connectErrorOf } from "../gateway/protocol/connect-error.js";
import { formatFailure, toCliFailure } from "./cli-failure.js";
import { ExitCode } from "./exit-codes.js";

describe("toCliFailure", () => {
  it("reports a server's error with its code, catalogue id and message: exit 1", () => {
    const fromServer = connectErrorOf(registryErrors.modelNotFound("iris"));
    const failure = toCliFailure(fromServer, "http://localhost:5000");
    expect(failure).toEqual({
      exitCode: ExitCode.serverError,
      code: "not_found",
      id: "REGISTRY_MODEL_NOT_FOUND",
      message: fromServer.rawMessage,
    });
    expect(formatFailure(failure)).toBe(`error: not_found: ${fromServer.rawMessage}\n`);
  });

  it("tells an unreachable server (a socket error under the ConnectError) from a server answering unavailable", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5000"), { code: "ECONNREFUSED" });
    const unreachable = new ConnectError(
      "connect ECONNREFUSED",
      ConnectCode.Unavailable,
      undefined,
      undefined,
      refused,
    );
    expect(toCliFailure(unreachable, "http://localhost:5000")).toMatchObject({
      exitCode: ExitCode.unreachable,
      id: "CLI_SERVER_UNREACHABLE",
      message: "cannot reach the server at http://localhost:5000 (ECONNREFUSED); is it running? (mlpipe start)",
    });
    const answered = new ConnectError("the metadata database is unavailable", ConnectCode.Unavailable);
    expect(toCliFailure(answered, "http://localhost:5000")).toMatchObject({ exitCode: ExitCode.serverError });
  });

  it("makes configuration errors usage errors, and failed outcomes server errors", () => {
    expect(toCliFailure(new ConfigError("HOST is bad"), undefined)).toMatchObject({
      exitCode: ExitCode.usage,
      code: "invalid_argument",
    });
    expect(toCliFailure(registryErrors.versionNotReady("m", 2n, "FAILED"), undefined)).toMatchObject({
      exitCode: ExitCode.serverError,
      code: "failed_precondition",
    });
  });

  it("hints at the port flags when a server command cannot listen", () => {
    const inUse = Object.assign(new Error("listen EADDRINUSE: address already in use 0.0.0.0:5000"), {
      code: "EADDRINUSE",
    });
    expect(formatFailure(toCliFailure(inUse, undefined))).toMatch(
      /^error: unavailable: listen EADDRINUSE: address already in use 0\.0\.0\.0:5000 \(another process uses the port/,
    );
  });
});
