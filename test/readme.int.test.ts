/**
 * Every command of README.md, run as a user runs it, so the README cannot rot (issue #5).
 *
 * The blocks run in order, in a fresh working directory that looks like a checkout of the
 * repository (a symbolic link to each of its top-level entries), so `npx mlpipe`, `npx buf`,
 * `npm start`, `./sdk/index.js` and `--schema proto` work as written there while the files the
 * commands write (`./model.onnx`, `./mlpipe-data`, ...) stay out of the real checkout. (So a
 * README command must write only new paths of its working directory: the links lead into the
 * checkout.)
 *
 * - `npm start` runs for real, configured as the README's table allows: HOST=127.0.0.1 and ports 0,
 *   so the test takes free ports. Every later command then runs in one bash session (variables a
 *   command sets, such as RUN_ID, are there for the next ones) with only `localhost:<README port>`
 *   replaced by the port that server got, REGISTRY_URL set for `npx mlpipe`, and `--inference-url`
 *   added to `npx mlpipe predict`.
 * - Each command must exit 0, must not answer an error, and must print what the `# ...` lines
 *   below it show (see test/support/readme-commands.ts). Commands run at reading pace in one
 *   respect: one that talks to the inference server waits until a stage change made by an earlier
 *   command has been hot-swapped in.
 * - Server commands (`npm start`, `npx mlpipe serve`) run in the background until their block
 *   ends (`npm start`: until the end), then get Ctrl-C (SIGINT to their process group) and must
 *   shut down cleanly.
 * - The TypeScript SDK block is typechecked with the repository's compiler options, runs with tsx,
 *   and must leave what it says (a finished run, its model in Production, the model downloaded).
 *   Python blocks are parsed with python3.
 * - What cannot run here is listed in `notRunHere` with the reason; a command that is neither run
 *   nor listed (a `<placeholder>`, an unknown variable or port, an unknown block language) fails
 *   naming its README line, and so does a `notRunHere` entry that matches nothing any more.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { RunStatus } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createMlpipeClient } from "../sdk/index.js";
import {
  assignedVariable,
  type CodeBlock,
  codeBlocks,
  expandedVariables,
  isErrorAnswer,
  outputMismatches,
  printedJson,
  type ShellCommand,
  shellCommands,
  withoutComments,
} from "./support/readme-commands.js";

const repo = join(import.meta.dirname, "..");
const readme = readFileSync(join(repo, "README.md"), "utf8");
const blocks = codeBlocks(readme);
const hasPython = spawnSync("python3", ["--version"]).status === 0;
const hasGrpcurl = spawnSync("grpcurl", ["-version"]).status === 0;

/** A README command or block this test does not run, and why. */
interface NotRunHere {
  /** The whole command (sh blocks), or a pattern over a block's text (other languages). */
  readonly matches: (text: string, lang: string) => boolean;
  readonly reason: string;
  /** False when it can run after all (the tool is installed): then it runs. Default true. */
  readonly applies?: boolean;
}

/** Short, and each entry says where the command is exercised instead. */
const notRunHere: readonly NotRunHere[] = [
  {
    matches: (text) => /^npm ci\b/.test(text),
    reason: "reinstalls node_modules; .ci/run runs it on a clean clone (this test uses the checkout's node_modules)",
  },
  {
    matches: (text) => /^npm test\b/.test(text),
    reason: "runs the whole suite, this test included; .ci/run runs it",
  },
  {
    matches: (text, lang) => lang === "python" && /torch\.onnx\.export|skl2onnx/.test(text),
    reason:
      "needs PyTorch and skl2onnx, not installed here; parsed with python3 only (an ONNX model of that shape is what training/ exports and every inference test serves)",
  },
  {
    matches: (text, lang) => lang === "python" && /^import mlflow$/m.test(text),
    reason:
      "needs MLflow's Python package, not installed here; parsed with python3 only (examples/python/mlflow_rest_calls.py makes the same requests with the standard library, and its test runs it against a real server)",
  },
  {
    matches: (text) => /\bgen_py\b|mlpipe\.binpb/.test(text),
    reason:
      "Python stubs of proto/mlpipe: needs Debian's python3-grpcio and python3-grpc-tools; examples/python/mlpipe-grpc-client.int.test.ts runs this generation and the client against real servers",
  },
  {
    matches: (text) => /^(docker|docker-compose|kubectl) /.test(text),
    reason:
      "needs a container engine or a cluster; scripts/container-smoke.sh and scripts/compose-e2e.sh build and run the image and the compose stack for real, k8s/kustomize.test.ts builds and validates every overlay",
  },
  {
    matches: (text) => /^scripts\/(container-base-image|container-smoke|compose-e2e)\.sh\b/.test(text),
    reason: "minutes long and needs root to start dockerd; run by hand or in CI (see the Deploy section)",
  },
  {
    matches: (text) => /\blocalhost:(8001|8002)\//.test(text),
    reason: "the compose stack's two replicas; scripts/compose-e2e.sh predicts through each of them",
  },
  {
    matches: (text) => /^grpcurl /.test(text),
    reason: "grpcurl is not installed here; the buf curl lines above make the same calls (it runs where grpcurl is)",
    applies: !hasGrpcurl,
  },
];
const notRunHereUsed = new Set<NotRunHere>();

function notRun(text: string, lang: string): NotRunHere | undefined {
  const entry = notRunHere.find((e) => e.matches(text, lang));
  if (entry === undefined) return undefined;
  notRunHereUsed.add(entry);
  return entry.applies === false ? undefined : entry;
}

/** A long-running command of the README, started in the background. */
interface ServerCommand {
  readonly matches: RegExp;
  /** The `msg` of the JSON log line that says it is up. */
  readonly readyMessage: string;
  /** Which README port (`localhost:<port>` in later commands) is which URL field of that log line. */
  readonly ports: (text: string) => Readonly<Record<number, string>>;
  /** The command as run: README ports replaced by 0 (a free port). */
  readonly rewrite: (text: string) => string;
  /** Extra environment (configuration variables of the README's table). */
  readonly env: Readonly<Record<string, string>>;
  /** A path that answers 200 once it serves, polled after the ready line. */
  readonly readyPath?: string;
  /** The last log line of a clean shutdown. */
  readonly stoppedMessage: string;
  /** Keeps running after its block, until the end of the README. */
  readonly untilTheEnd: boolean;
}

const serverCommands: readonly ServerCommand[] = [
  {
    matches: /^npm start$/,
    readyMessage: "platform ready",
    ports: () => ({ 5000: "registryUrl", 8000: "inferenceUrl" }),
    rewrite: (text) => text,
    env: { REGISTRY_PORT: "0", INFERENCE_PORT: "0" },
    stoppedMessage: "platform stopped",
    untilTheEnd: true,
  },
  {
    matches: /^(?:[A-Z_]+=\S+ )*npx mlpipe serve$/,
    readyMessage: "inference server started",
    ports: (text) => ({ [Number(/INFERENCE_PORT=(\d+)/.exec(text)?.[1] ?? 8000)]: "url" }),
    rewrite: (text) => text.replace(/INFERENCE_PORT=\d+/, "INFERENCE_PORT=0"),
    env: {},
    readyPath: "/health/ready",
    stoppedMessage: "inference server stopped",
    untilTheEnd: false,
  },
];

/** A server a README command started. */
interface RunningServer {
  readonly line: number;
  readonly spec: ServerCommand;
  readonly child: ChildProcessWithoutNullStreams;
  readonly logs: Record<string, unknown>[];
  readonly exit: Promise<unknown>;
}

const work = mkdtempSync(join(tmpdir(), "mlpipe-readme-"));
// The checkout, minus its history and its data: links to the real files, which commands only read.
for (const entry of readdirSync(repo)) {
  if (entry !== ".git" && entry !== "mlpipe-data" && !entry.startsWith(".tmp")) {
    symlinkSync(join(repo, entry), join(work, entry));
  }
}
const outputs = mkdtempSync(join(tmpdir(), "mlpipe-readme-out-"));

/** README port -> the `127.0.0.1:<port>` a server of the README got instead. */
const ports = new Map<number, string>();
const servers: RunningServer[] = [];
/** Variables earlier commands set. */
const assigned = new Set<string>();

/** The environment of every command: nothing of the developer's but PATH and HOME. */
const baseEnv: Record<string, string> = {
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
  HOME: process.env.HOME ?? work,
  HOST: "127.0.0.1",
  INFERENCE_WORKERS: "1",
  // npx must never fetch a package: every command it runs is in the checkout.
  npm_config_offline: "true",
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
};

/** The bash session the commands run in, created once the platform is up. */
let shell: ChildProcessWithoutNullStreams | undefined;
let shellOut = "";
let commandCount = 0;

afterAll(async () => {
  shell?.stdin.end();
  for (const s of servers) if (s.child.exitCode === null) killGroup(s.child, "SIGKILL");
  shell?.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
  rmSync(outputs, { recursive: true, force: true });
});

function killGroup(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** `text` with each `localhost:<README port>` replaced by the port its server got; throws naming the line for an unknown one. */
function withPorts(text: string, line: number): string {
  return text.replace(/localhost:(\d+)/g, (whole, port: string) => {
    const actual = ports.get(Number(port));
    if (actual === undefined) {
      throw new Error(`README.md:${line}: ${whole} is no server the README started before this line`);
    }
    return actual;
  });
}

/** Throws naming the line when a command cannot run as written here. */
function checkRunnable(command: ShellCommand): void {
  const placeholder = /<[a-z][a-z _-]*>/.exec(command.text);
  if (placeholder !== null) {
    throw new Error(
      `README.md:${command.line}: ${placeholder[0]} is a placeholder, so the command cannot run as written; set it from an earlier command (e.g. RUN_ID=$(...)) or list the command in notRunHere with the reason`,
    );
  }
  for (const name of expandedVariables(command.text)) {
    if (!assigned.has(name) && !(name in baseEnv)) {
      throw new Error(`README.md:${command.line}: $${name} is set by no earlier command of the README`);
    }
  }
}

async function startShell(): Promise<ChildProcessWithoutNullStreams> {
  const registry = ports.get(5000);
  if (registry === undefined) throw new Error("the README must start the platform (npm start) before other commands");
  const child = spawn("bash", ["--noprofile", "--norc"], {
    cwd: work,
    env: { ...baseEnv, REGISTRY_URL: `http://${registry}` },
  });
  child.stdout.on("data", (d: Buffer) => {
    shellOut += d.toString();
  });
  child.stdin.write("set -o pipefail\n");
  return child;
}

/** What a command did. */
interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `text` in the bash session (its variables stay for the next commands); stdin is /dev/null. */
async function runInShell(text: string, line: number, timeoutMs = 90_000): Promise<CommandResult> {
  shell ??= await startShell();
  const n = ++commandCount;
  const out = join(outputs, `${n}.out`);
  const err = join(outputs, `${n}.err`);
  const marker = `__readme_command_${n}_status__`;
  shell.stdin.write(`{\n${text}\n} </dev/null >'${out}' 2>'${err}'\necho "${marker} $?"\n`);
  const deadline = Date.now() + timeoutMs;
  const pattern = new RegExp(`${marker} (\\d+)\\n`);
  let match = pattern.exec(shellOut);
  while (match === null) {
    if (Date.now() > deadline || shell.exitCode !== null) {
      throw new Error(`README.md:${line}: the command did not finish within ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 25));
    match = pattern.exec(shellOut);
  }
  return {
    status: Number(match[1]),
    stdout: await readFile(out, "utf8"),
    stderr: await readFile(err, "utf8"),
  };
}

/** The value of a variable of the bash session. */
async function shellVariable(name: string, line: number): Promise<string> {
  return (await runInShell(`printf '%s' "$${name}"`, line)).stdout;
}

/**
 * Waits until the platform's inference server serves the version the registry has in Production:
 * a reader reaches the next command after a stage change has been hot-swapped in (a few hundred
 * ms), while this test would otherwise get there first.
 */
async function awaitHotSwap(line: number): Promise<void> {
  const registry = ports.get(5000);
  const inference = ports.get(8000);
  if (registry === undefined || inference === undefined) return;
  const client = createMlpipeClient({ url: `http://${registry}` });
  const latest = await client.registry.getLatestVersions({ name: "iris-classifier", stages: [Stage.PRODUCTION] });
  const want = latest.modelVersions[0]?.version.toString();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const info = await fetch(`http://${inference}/model/info`).then(
      (r) => r.json() as Promise<{ version?: string }>,
      () => ({ version: undefined }),
    );
    if (info.version === want) return;
    if (Date.now() > deadline) {
      throw new Error(`README.md:${line}: the inference server still serves version ${info.version}, not ${want}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs one command of a shell block and checks it; throws naming its README line. */
async function runCommand(command: ShellCommand): Promise<void> {
  checkRunnable(command);
  if (/localhost:8000\b|^npx mlpipe predict\b/.test(command.text)) await awaitHotSwap(command.line);
  let text = withPorts(command.text, command.line);
  if (/^npx mlpipe predict\b/.test(text)) text += ` --inference-url http://${ports.get(8000) ?? ""}`;
  const result = await runInShell(text, command.line);
  const where = `README.md:${command.line}: ${command.text}`;
  if (result.status !== 0) {
    throw new Error(`${where}\nexited with ${result.status}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  const printed = printedJson(result.stdout);
  if (isErrorAnswer(printed) && !command.expected.some((e) => /"(code|error)"/.test(e.text))) {
    throw new Error(`${where}\nanswered an error: ${result.stdout}`);
  }
  const mismatches = outputMismatches(result.stdout, command.expected);
  if (mismatches.length > 0) throw new Error(`${where}\n${mismatches.join("\n")}`);
  const variable = assignedVariable(command.text);
  if (variable !== undefined) {
    const value = await shellVariable(variable, command.line);
    if (value === "" || value === "undefined") throw new Error(`${where}\nset ${variable} to "${value}"`);
    assigned.add(variable);
  }
}

/** Starts a server command in the background (its own process group, as a terminal runs it); resolves once it is ready. */
async function startServer(command: ShellCommand, spec: ServerCommand): Promise<void> {
  const text = withPorts(spec.rewrite(command.text), command.line);
  const registry = ports.get(5000);
  const child = spawn("bash", ["-c", text], {
    cwd: work,
    env: { ...baseEnv, ...(registry === undefined ? {} : { REGISTRY_URL: `http://${registry}` }), ...spec.env },
    detached: true,
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  let buffered = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = once(child, "exit");
  const server: RunningServer = { line: command.line, spec, child, logs, exit };
  servers.push(server);
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`README.md:${command.line}: not ready within 120 s: ${stderr}`)),
      120_000,
    );
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const log = JSON.parse(line) as Record<string, unknown>;
        logs.push(log);
        if (log.msg === spec.readyMessage) {
          clearTimeout(timer);
          resolve(log);
        }
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`README.md:${command.line}: ${command.text} exited before it was ready:\n${stderr}`));
    });
  });
  for (const [port, field] of Object.entries(spec.ports(command.text))) {
    const url = ready[field];
    if (typeof url !== "string") throw new Error(`README.md:${command.line}: the ready log has no ${field}`);
    ports.set(Number(port), new URL(url).host);
  }
  if (spec.readyPath !== undefined) {
    const url = `http://${ports.get(Number(Object.keys(spec.ports(command.text))[0])) ?? ""}${spec.readyPath}`;
    const deadline = Date.now() + 60_000;
    while (
      (await fetch(url).then(
        (r) => r.status,
        () => 0,
      )) !== 200
    ) {
      if (Date.now() > deadline) throw new Error(`README.md:${command.line}: ${url} never answered 200`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Ctrl-C for a server: SIGINT to its process group; it must log its clean stop and exit. */
async function stopServer(server: RunningServer): Promise<void> {
  killGroup(server.child, "SIGINT");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`README.md:${server.line}: still running 30 s after Ctrl-C`)), 30_000);
  });
  await Promise.race([server.exit, timeout]).finally(() => clearTimeout(timer));
  const messages = server.logs.map((l) => l.msg);
  expect(messages, `README.md:${server.line}: log after Ctrl-C`).toContain("shutting down");
  expect(messages, `README.md:${server.line}: log after Ctrl-C`).toContain(server.spec.stoppedMessage);
}

async function runShellBlock(block: CodeBlock): Promise<string[]> {
  const skipped: string[] = [];
  const started: RunningServer[] = [];
  for (const written of shellCommands(block)) {
    const command = { ...written, text: withoutComments(written.text) };
    const excused = notRun(command.text, block.lang);
    if (excused !== undefined) {
      skipped.push(`README.md:${command.line}: ${command.text.split("\n")[0]} — ${excused.reason}`);
      continue;
    }
    const spec = serverCommands.find((s) => s.matches.test(command.text));
    if (spec !== undefined) {
      await startServer(command, spec);
      const server = servers.at(-1);
      if (server !== undefined && !spec.untilTheEnd) started.push(server);
    } else {
      await runCommand(command);
    }
  }
  for (const server of started) await stopServer(server);
  return skipped;
}

/**
 * Typechecks the SDK block with the repository's compiler options, then runs it with tsx, as a
 * module of the working directory (`./sdk/index.js` resolves there).
 */
async function runTypeScriptBlock(block: CodeBlock): Promise<void> {
  const file = `readme-${block.line}.ts`;
  writeFileSync(join(work, file), withPorts(block.lines.join("\n"), block.line));
  writeFileSync(
    join(work, `tsconfig.readme-${block.line}.json`),
    JSON.stringify({ extends: "./tsconfig.json", include: [file], compilerOptions: { noEmit: true } }),
  );
  const typecheck = await runInShell(`npx tsc -p tsconfig.readme-${block.line}.json`, block.line, 120_000);
  if (typecheck.status !== 0) {
    throw new Error(`README.md:${block.line}: the TypeScript block does not typecheck:\n${typecheck.stdout}`);
  }
  const result = await runInShell(`npx tsx ${file}`, block.line, 120_000);
  if (result.status !== 0) {
    throw new Error(`README.md:${block.line}: the TypeScript block failed (${result.status}):\n${result.stderr}`);
  }
}

function runPythonBlock(block: CodeBlock): string[] {
  const excused = notRun(block.lines.join("\n"), block.lang);
  if (excused === undefined) {
    throw new Error(`README.md:${block.line}: a python block this test does not run; run it or list it in notRunHere`);
  }
  if (hasPython) {
    const parsed = spawnSync("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read())"], {
      input: block.lines.join("\n"),
    });
    expect(parsed.stderr.toString(), `README.md:${block.line}: Python syntax`).toBe("");
    expect(parsed.status).toBe(0);
  }
  return [`README.md:${block.line}: python block — ${excused.reason}`];
}

describe("README.md", () => {
  const skipped: string[] = [];

  for (const block of blocks) {
    const title = `README.md:${block.line}: \`\`\`${block.lang} block`;
    it(`runs the ${title}`, { timeout: 240_000 }, async () => {
      switch (block.lang) {
        case "sh":
          skipped.push(...(await runShellBlock(block)));
          break;
        case "ts": {
          await runTypeScriptBlock(block);
          // What the SDK example did: a FINISHED run "lr-0.5" whose model is now in Production,
          // and its model directory downloaded as it was uploaded.
          const client = createMlpipeClient({ url: `http://${ports.get(5000) ?? ""}` });
          const latest = await client.registry.getLatestVersions({
            name: "iris-classifier",
            stages: [Stage.PRODUCTION],
          });
          const runId = latest.modelVersions[0]?.runId ?? "";
          expect((await client.tracking.getRun({ runId })).run?.info).toMatchObject({
            runName: "lr-0.5",
            status: RunStatus.FINISHED,
          });
          const history = await client.tracking.getMetricHistory({ runId, metricKey: "loss", maxResults: 1000 });
          expect(history.metrics).toHaveLength(300);
          const downloaded = await readFile(join(work, "lr-0.5-model", "model.onnx"));
          expect(downloaded.equals(await readFile(join(work, "model.onnx")))).toBe(true);
          break;
        }
        case "python":
          skipped.push(...runPythonBlock(block));
          break;
        case "mermaid":
          break; // a diagram, nothing to run
        default:
          throw new Error(`README.md:${block.line}: a \`\`\`${block.lang} block this test does not know how to run`);
      }
    });
  }

  it("ran or listed every command, and the platform stops cleanly on Ctrl-C", { timeout: 60_000 }, async () => {
    const stale = notRunHere.filter((e) => !notRunHereUsed.has(e));
    expect(
      stale.map((e) => e.reason),
      "notRunHere entries that match no README command",
    ).toEqual([]);
    for (const s of servers.filter((s) => s.spec.untilTheEnd)) await stopServer(s);
    // Shown in the test output: what this test did not run, and why.
    console.info(`README commands not run here:\n  ${skipped.join("\n  ")}`);
  });
});
