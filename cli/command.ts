/**
 * The shape of a `mlpipe` subcommand: its name, arguments and flags (which drive parsing and
 * `--help`), and what it does.
 */
import type { Config } from "../core/config.js";
import type { CliIo } from "./cli-io.js";
import type { ExitCodeValue } from "./exit-codes.js";

/** A positional argument. */
export interface ArgumentSpec {
  /** Shown in the usage line, e.g. "model". */
  readonly name: string;
  readonly description: string;
  /** Default false: the argument is required. */
  readonly optional?: boolean;
  /** The last argument only: it takes every remaining positional (one at least unless optional). */
  readonly variadic?: boolean;
}

/** A `--flag` of one command. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly description: string;
  /** Shown after a string flag in help, e.g. "NAME". */
  readonly valueName?: string;
}

/** The parsed command line of one command. */
export interface CommandArgs {
  /** The positionals, as many as the command declares (optional ones may be missing). */
  readonly positionals: readonly string[];
  /** The value of a string flag, undefined when absent. */
  string(name: string): string | undefined;
  /** Whether a boolean flag is set. */
  boolean(name: string): boolean;
}

/** What a command runs with. */
export interface CommandContext {
  readonly io: CliIo;
  readonly args: CommandArgs;
  /** `--json`: print machine-readable JSON on stdout instead of tables. */
  readonly json: boolean;
  /**
   * The registry URL: `--registry-url`, else REGISTRY_URL, else MLFLOW_TRACKING_URI, else http://localhost:5000. Calling it
   * names the registry as the server an "unreachable" error is about.
   */
  registryUrl(): string;
  /**
   * The inference server URL: a command's `--url`, else `--inference-url`, else
   * http://localhost:8000. Calling it names that server as the one an "unreachable" error is about.
   */
  inferenceUrl(): string;
  /**
   * The configuration from the environment with `overrides` (variable -> value) applied, as the
   * server commands map their flags onto variables; throws ConfigError naming the variable.
   */
  loadConfig(overrides?: Readonly<Record<string, string | undefined>>): Config;
}

/** One subcommand of `mlpipe`. */
export interface Command {
  /** Words after `mlpipe`, e.g. "runs list". */
  readonly name: string;
  /** Heading the command is listed under in `mlpipe --help`. */
  readonly section: "Servers" | "Tracking" | "Model registry" | "Inference" | "Access";
  /** One line for the command list. */
  readonly summary: string;
  /** More text for `--help`, when one line is not enough. */
  readonly details?: string;
  readonly arguments: readonly ArgumentSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Example invocations for `--help`, without the leading `mlpipe`. */
  readonly examples?: readonly string[];
  /** Runs the command; resolves with its exit code (0 unless said otherwise). */
  run(context: CommandContext): Promise<ExitCodeValue | undefined>;
}
