/**
 * `mlpipe artifacts upload` and `mlpipe artifacts download` in-process (runCli with captured
 * output, a terminal-like stderr for the progress bars) against a real registry server: files
 * go up and come back byte for byte, a directory comes back recursively with its layout, and
 * paths that do not exist or would escape the destination fail with one line and an exit code.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMlpipeClient } from "../sdk/index.js";
import { startTestRegistryServer, type TestRegistryServer } from "../test/support/registry-server.js";
import type { CliIo, CliOutput } from "./cli-io.js";
import { allCommands } from "./commands/all-commands.js";
import { ExitCode } from "./exit-codes.js";
import { runCli } from "./run-cli.js";

let server: TestRegistryServer;
let dir: string;
let runId: string;
const weights = randomBytes(700 * 1024 + 11);

beforeAll(async () => {
  server = await startTestRegistryServer();
  dir = await mkdtemp(join(tmpdir(), "mlpipe-cli-artifacts-"));
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "src", "weights.bin"), weights);
  await writeFile(join(dir, "src", "config.json"), '{"lr": 0.5}');
  await writeFile(join(dir, "src", "vocab.txt"), "a\nb\n");
  const run = await createMlpipeClient({ url: server.url }).startRun({ experiment: "cli-artifacts" });
  runId = run.runId;
  await run.end();
});

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Captured extends CliOutput {
  readonly text: () => string;
}

function capture(isTTY: boolean): Captured {
  let text = "";
  return {
    write: (t) => {
      text += t;
    },
    isTTY,
    columns: 100,
    text: () => text,
  };
}

/** Runs `mlpipe <argv> --registry-url <server>` in `dir`, with stderr a terminal (progress bars drawn). */
async function mlpipe(argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = capture(false);
  const stderr = capture(true);
  const io: CliIo = { stdout, stderr, env: {}, cwd: dir };
  const code = await runCli([...argv, "--registry-url", server.url], io, allCommands);
  return { code, out: stdout.text(), err: stderr.text() };
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("mlpipe artifacts", () => {
  it("uploads files into a nested layout and downloads one file, a directory and the whole run", async () => {
    const uploads: [string, string][] = [
      ["model/weights.bin", "src/weights.bin"],
      ["model/config/config.json", "src/config.json"],
      ["model/config/tokenizer/vocab.txt", "src/vocab.txt"],
      ["readme.txt", "src/vocab.txt"],
    ];
    for (const [path, local] of uploads) {
      const up = await mlpipe(["artifacts", "upload", runId, path, local]);
      expect(up).toMatchObject({ code: ExitCode.ok });
      expect(up.out).toMatch(new RegExp(`^uploaded ${path} \\(.+, sha256 [0-9a-f]{64}\\)\\n$`));
    }
    const upBar = await mlpipe(["artifacts", "upload", runId, "model/weights.bin", "src/weights.bin"]);
    expect(upBar.err).toMatch(/uploading model\/weights\.bin \[#{24}\] 100% {2}700\.0 KiB \/ 700\.0 KiB\n$/);

    // One file: to a path, then into an existing directory under its own name.
    const file = await mlpipe(["artifacts", "download", runId, "model/weights.bin", "w.bin"]);
    expect(file).toMatchObject({
      code: ExitCode.ok,
      out: `downloaded model/weights.bin to ${dir}/w.bin (700.0 KiB)\n`,
    });
    expect(file.err).toMatch(/downloading model\/weights\.bin \[#{24}\] 100% {2}700\.0 KiB \/ 700\.0 KiB\n$/);
    expect(sha256(await readFile(join(dir, "w.bin")))).toBe(sha256(weights));
    await mkdir(join(dir, "into"));
    expect(await mlpipe(["artifacts", "download", runId, "model/config/config.json", "into"])).toMatchObject({
      code: ExitCode.ok,
    });
    expect(await readFile(join(dir, "into", "config.json"), "utf8")).toBe('{"lr": 0.5}');

    // A directory: every file below it, recursively, keeping the layout below it; one bar over all bytes.
    const tree = await mlpipe(["artifacts", "download", runId, "model", "out/model"]);
    expect(tree.code).toBe(ExitCode.ok);
    expect(tree.out).toBe(`downloaded model/ (3 files, 700.0 KiB) to ${dir}/out/model\n`);
    expect(tree.err).toMatch(/downloading model\/ \[#{24}\] 100% {2}700\.0 KiB \/ 700\.0 KiB\n$/);
    expect((await readdir(join(dir, "out", "model"), { recursive: true })).sort()).toEqual([
      "config",
      "config/config.json",
      "config/tokenizer",
      "config/tokenizer/vocab.txt",
      "weights.bin",
    ]);
    expect(sha256(await readFile(join(dir, "out", "model", "weights.bin")))).toBe(sha256(weights));
    expect(await readFile(join(dir, "out", "model", "config", "tokenizer", "vocab.txt"), "utf8")).toBe("a\nb\n");

    // A subdirectory with a trailing slash, as JSON: each file with its size and SHA-256.
    const sub = await mlpipe(["artifacts", "download", runId, "model/config/", "cfg", "--json"]);
    expect(sub.code).toBe(ExitCode.ok);
    expect(JSON.parse(sub.out)).toEqual({
      files: [
        { path: "model/config/config.json", fileSize: "11", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        { path: "model/config/tokenizer/vocab.txt", fileSize: "4", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ],
      local: join(dir, "cfg"),
    });
    expect((await readdir(join(dir, "cfg"), { recursive: true })).sort()).toEqual([
      "config.json",
      "tokenizer",
      "tokenizer/vocab.txt",
    ]);

    // `.`: all of the run's artifacts.
    const all = await mlpipe(["artifacts", "download", runId, ".", "all"]);
    expect(all.out).toBe(`downloaded all artifacts (4 files, 700.0 KiB) to ${dir}/all\n`);
    expect((await readdir(join(dir, "all"))).sort()).toEqual(["model", "readme.txt"]);
  });

  it("fails with one line and an exit code for a missing path, an escaping path, a file in the way", async () => {
    await mlpipe(["artifacts", "upload", runId, "model/weights.bin", "src/weights.bin"]);
    await writeFile(join(dir, "a-file"), "x");
    const cases: [string[], number, RegExp][] = [
      [
        ["artifacts", "download", runId, "no/such/dir", "dest"],
        ExitCode.serverError,
        new RegExp(`^error: not_found: run ${runId} has no artifact file or directory "no/such/dir"\\n$`),
      ],
      [
        ["artifacts", "download", runId, "model/weights", "dest"],
        ExitCode.serverError,
        /has no artifact file or directory "model\/weights"/,
      ],
      [
        ["artifacts", "download", runId, "../model", "dest"],
        ExitCode.usage,
        /^error: invalid_argument: invalid <path>: must not contain a `\.\.` segment\n/,
      ],
      [
        ["artifacts", "download", runId, "model/../../etc", "dest"],
        ExitCode.usage,
        /invalid <path>: must not contain a `\.\.` segment/,
      ],
      [
        ["artifacts", "download", runId, "/etc/passwd", "dest"],
        ExitCode.usage,
        /invalid <path>: must be relative, not start with `\/`/,
      ],
      [
        ["artifacts", "download", runId, "model", "a-file"],
        ExitCode.usage,
        /^error: invalid_argument: invalid <local>: "a-file" exists and is not a directory; model is a directory\n/,
      ],
      [
        ["artifacts", "download", "0123456789abcdef0123456789abcdef", "model", "dest"],
        ExitCode.serverError,
        /^error: not_found: run 0123456789abcdef0123456789abcdef does not exist\n$/,
      ],
    ];
    for (const [argv, code, message] of cases) {
      const r = await mlpipe(argv);
      expect({ argv, code: r.code }).toEqual({ argv, code });
      expect(r.err).toMatch(message);
      expect(r.out).toBe("");
    }
    expect(await readdir(dir)).not.toContain("dest");
    expect(await readFile(join(dir, "a-file"), "utf8")).toBe("x");
  });
});
