/**
 * The command line in-process: help, usage errors and their exit codes, `--json` errors, an
 * unreachable server. Output is captured; no server is started.
 */
import { describe, expect, it } from "vitest";
import { closedPort } from "../test/support/closed-port.js";
import type { CliIo, CliOutput } from "./cli-io.js";
import { allCommands } from "./commands/all-commands.js";
import { ExitCode } from "./exit-codes.js";
import { runCli } from "./run-cli.js";

interface Captured extends CliOutput {
  readonly text: () => string;
}

function capture(): Captured {
  let text = "";
  return {
    write: (t) => {
      text += t;
    },
    isTTY: false,
    text: () => text,
  };
}

async function run(
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const stdout = capture();
  const stderr = capture();
  const io: CliIo = { stdout, stderr, env, cwd: "/" };
  const code = await runCli(argv, io, allCommands);
  return { code, out: stdout.text(), err: stderr.text() };
}

/** The URL of a port nothing listens on. */
async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}

describe("runCli", () => {
  it("prints the command list, with every command and the exit codes, for --help", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(ExitCode.ok);
    for (const c of allCommands) expect(r.out).toContain(`  ${c.name} `);
    expect(r.out).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}3 /);
    expect(r.err).toBe("");
  });

  it("prints a command's usage for --help and -h, even with its arguments missing", async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await run(["promote", flag]);
      expect(r.code).toBe(ExitCode.ok);
      expect(r.out).toMatch(/^Usage: mlpipe promote <model> <version> <stage> \[flags\]\n/);
      expect(r.out).toContain("--archive-existing");
    }
    const group = await run(["alias", "--help"]);
    expect(group.out).toMatch(/alias set.*\n.*alias delete/);
  });

  it("exits 2 with one line naming the problem for a bad command line", async () => {
    const cases: [string[], RegExp][] = [
      [[], /invalid command: missing/],
      [["strat"], /"strat" is not a command; did you mean "start"\?/],
      [["runs"], /invalid subcommand: mlpipe runs needs one; expected list/],
      [["alias", "rename"], /"rename" is not one of mlpipe alias; expected set or delete/],
      [["promote", "m", "1"], /missing <stage>; usage: mlpipe promote/],
      [["promote", "m", "1", "Production", "extra"], /unexpected "extra"/],
      [["models", "list", "--bogus"], /invalid flags: Unknown option '--bogus'; usage: mlpipe models list/],
      [["promote", "m", "one", "Production"], /invalid <version>: must be a positive integer, got "one"/],
      [["promote", "m", "1", "Live"], /invalid <stage>: must be None, Staging, Production or Archived, got "Live"/],
      [["predict"], /invalid --features: required/],
      [["predict", "--features", "1,,2"], /invalid --features: value 2 \(""\) is not a finite number/],
      [["runs", "list"], /invalid --experiment: required/],
      [["models", "list", "--limit", "0"], /invalid --limit: must be an integer from 1 to 10000/],
      [["models", "list", "--registry-url", "localhost:5000"], /invalid --registry-url: must be an http/],
      [["register", "m", "/no/such/model.onnx"], /invalid <file.onnx>: no such file/],
    ];
    for (const [argv, pattern] of cases) {
      const r = await run(argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: ExitCode.usage });
      expect(r.err).toMatch(/^error: invalid_argument: /);
      expect(r.err).toMatch(pattern);
      expect(r.out).toBe("");
    }
  });

  it("exits 2 naming the variable when the environment is malformed", async () => {
    const r = await run(["models", "list"], { REGISTRY_URL: "ftp://x" });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.err).toMatch(/REGISTRY_URL must be an http/);
  });

  it("lets client commands ignore server settings they never read, malformed or not", async () => {
    const url = await closedPortUrl();
    const env = { REGISTRY_URL: url, MAX_BATCH_SIZE: "many", MLPIPE_DATADIR: "/typo", MODEL_STAGE: "v1" };
    for (const argv of [
      ["models", "list"],
      ["versions", "list", "iris-classifier"],
      ["runs", "list", "--experiment", "x"],
    ]) {
      const r = await run(argv, env);
      expect({ argv, code: r.code }).toEqual({ argv, code: ExitCode.unreachable });
      expect(r.err).toContain(`cannot reach the server at ${url}`);
    }
  });

  it("writes errors as JSON with --json", async () => {
    const r = await run(["promote", "m", "x", "Production", "--json"]);
    expect(r.code).toBe(ExitCode.usage);
    expect(JSON.parse(r.err)).toEqual({
      error: {
        code: "invalid_argument",
        id: "INVALID_ARGUMENT",
        message: 'invalid <version>: must be a positive integer, got "x"',
      },
      exitCode: 2,
    });
  });

  it("exits 3 naming the URL when the server cannot be reached", async () => {
    const url = await closedPortUrl();
    const viaEnv = await run(["versions", "list", "iris-classifier"], { REGISTRY_URL: url });
    expect(viaEnv.code).toBe(ExitCode.unreachable);
    expect(viaEnv.err).toBe(
      `error: unavailable: cannot reach the server at ${url} (ECONNREFUSED); is it running? (mlpipe start)\n`,
    );
    // Global flags may also come before the command.
    const before = await run(["--registry-url", url, "models", "list"]);
    expect(before.code).toBe(ExitCode.unreachable);
    const predict = await run(["predict", "--features", "1,2", "--inference-url", url]);
    expect(predict.code).toBe(ExitCode.unreachable);
    expect(predict.err).toContain(`cannot reach the server at ${url}`);
  });
});
