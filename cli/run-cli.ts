/**
 * Parses a `mlpipe` command line, runs the command and reports its failure: the whole CLI minus
 * the process (see mlpipe.ts), so tests can run it in-process with captured output.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { loadConfig, readRegistryUrl } from "../core/config.js";
import { commonErrors } from "../core/errors/common-errors.js";
import { failureJson, formatFailure, toCliFailure } from "./cli-failure.js";
import type { CliIo } from "./cli-io.js";
import type { Command, CommandArgs, CommandContext } from "./command.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";
import { commandHelp, globalOptions, groupHelp, mainHelp, usageLine } from "./help-text.js";

/** Default URL of the tracking + registry server (the platform's port 5000). */
export const defaultRegistryUrl = "http://localhost:5000";
/** Default URL of the inference server (the platform's port 8000). */
export const defaultInferenceUrl = "http://localhost:8000";

/** Runs `argv` (the arguments after `mlpipe`) against `commands`; resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly Command[]): Promise<ExitCodeValue> {
  const json = argv.includes("--json");
  let target: string | undefined;
  try {
    const parsed = parseCommandLine(argv, commands);
    if (parsed.kind === "help") {
      io.stdout.write(parsed.text);
      return ExitCode.ok;
    }
    const { command, values, positionals } = parsed;
    const context = createContext(io, values, positionals, (url) => {
      target = url;
    });
    return (await command.run(context)) ?? ExitCode.ok;
  } catch (err) {
    const failure = toCliFailure(err, target);
    io.stderr.write(json ? failureJson(failure) : formatFailure(failure));
    if (failure.exitCode === ExitCode.usage && !json && isUsageOfCommandLine(err)) {
      io.stderr.write("Run `mlpipe --help` for the commands, `mlpipe <command> --help` for one command.\n");
    }
    return failure.exitCode;
  }
}

type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

type ParsedCommandLine =
  | { readonly kind: "help"; readonly text: string }
  | {
      readonly kind: "command";
      readonly command: Command;
      readonly values: ParsedValues;
      readonly positionals: readonly string[];
    };

/** Errors about the command line itself (as opposed to a value the server refused). */
const commandLineErrors = new WeakSet<object>();

function usage(field: string, reason: string): Error {
  const err = commonErrors.invalidArgument(field, reason);
  commandLineErrors.add(err);
  return err;
}

function isUsageOfCommandLine(err: unknown): boolean {
  return typeof err === "object" && err !== null && commandLineErrors.has(err);
}

function parseCommandLine(argv: readonly string[], commands: readonly Command[]): ParsedCommandLine {
  // Global flags may come before the command words: skip them (and the value of a string flag).
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const token = argv[i] ?? "";
    if (!token.startsWith("-") || token === "-" || token === "--") break;
    leading.push(token);
    const name = token.replace(/^--?/, "");
    if (!token.includes("=") && globalOptions[name]?.type === "string" && i + 1 < argv.length) {
      leading.push(argv[i + 1] ?? "");
      i++;
    }
    i++;
  }
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  const first = argv[i];
  if (first === undefined || first === "--") {
    if (wantsHelp) return { kind: "help", text: mainHelp(commands) };
    throw usage("command", "missing; run `mlpipe --help` for the list of commands");
  }
  const second = argv[i + 1];
  const command =
    commands.find((c) => second !== undefined && c.name === `${first} ${second}`) ??
    commands.find((c) => c.name === first);
  if (command === undefined) {
    if (commands.some((c) => c.name.startsWith(`${first} `))) {
      if (wantsHelp && (second === undefined || second.startsWith("-"))) {
        return { kind: "help", text: groupHelp(first, commands) };
      }
      const subs = commands.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.slice(first.length + 1));
      const what =
        second === undefined || second.startsWith("-")
          ? `mlpipe ${first} needs one`
          : `"${second}" is not one of mlpipe ${first}`;
      throw usage("subcommand", `${what}; expected ${subs.join(" or ")}`);
    }
    const suggestion = closest(
      first,
      commands.map((c) => c.name.split(" ")[0] ?? c.name),
    );
    throw usage(
      "command",
      `"${first}" is not a command${suggestion === undefined ? "" : `; did you mean "${suggestion}"?`}`,
    );
  }
  const rest = argv.slice(i + command.name.split(" ").length);
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, spec] of Object.entries({ ...globalOptions, ...command.options })) {
    options[name] = name === "help" ? { type: "boolean", short: "h" } : { type: spec.type };
  }
  let parsed: { values: ParsedValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...leading, ...rest], options, strict: true, allowPositionals: true });
  } catch (err) {
    // node:util's messages name the flag; drop its advice about positionals starting with "-".
    const message = err instanceof Error ? err.message : String(err);
    throw usage("flags", `${message.split(". To specify")[0] ?? message}; usage: ${usageLine(command)}`);
  }
  if (parsed.values.help === true) return { kind: "help", text: commandHelp(command) };
  const { positionals } = parsed;
  const required = command.arguments.filter((a) => a.optional !== true);
  if (positionals.length < required.length) {
    const missing = required[positionals.length];
    throw usage("arguments", `missing <${missing?.name ?? "?"}>; usage: ${usageLine(command)}`);
  }
  if (positionals.length > command.arguments.length && command.arguments.at(-1)?.variadic !== true) {
    throw usage("arguments", `unexpected "${positionals[command.arguments.length]}"; usage: ${usageLine(command)}`);
  }
  return { kind: "command", command, values: parsed.values, positionals };
}

function createContext(
  io: CliIo,
  values: ParsedValues,
  positionals: readonly string[],
  setTarget: (url: string) => void,
): CommandContext {
  const args: CommandArgs = {
    positionals,
    string: (name) => {
      const v = values[name];
      return typeof v === "string" ? v : undefined;
    },
    boolean: (name) => values[name] === true,
  };
  const urlFlag = (name: string): string | undefined => {
    const v = args.string(name);
    if (v === undefined) return undefined;
    if (!/^https?:\/\/[^/]+/.test(v)) throw usage(`--${name}`, `must be an http:// or https:// URL, got "${v}"`);
    return v.replace(/\/+$/, "");
  };
  const loadWith = (overrides: Readonly<Record<string, string | undefined>> = {}) => {
    const env: Record<string, string | undefined> = { ...io.env };
    for (const [k, v] of Object.entries(overrides)) if (v !== undefined) env[k] = v;
    return loadConfig(env, io.cwd);
  };
  return {
    io,
    args,
    json: args.boolean("json"),
    registryUrl: () => {
      // Client commands read REGISTRY_URL (or MLFLOW_TRACKING_URI) alone: a server setting they never use must not break them.
      const url = urlFlag("registry-url") ?? readRegistryUrl(io.env) ?? defaultRegistryUrl;
      setTarget(url);
      return url;
    },
    inferenceUrl: () => {
      const url = urlFlag("url") ?? urlFlag("inference-url") ?? defaultInferenceUrl;
      setTarget(url);
      return url;
    },
    loadConfig: loadWith,
  };
}

/** The candidate within edit distance 2 of `word`, if one is. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const c of new Set(candidates)) {
    const d = editDistance(word, c);
    if (d <= 2 && (best === undefined || d < best.distance)) best = { name: c, distance: d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
