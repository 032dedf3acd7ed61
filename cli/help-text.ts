/**
 * The `--help` texts of `mlpipe`: the command list, a group's subcommands, one command's usage.
 * Generated from the command specs, so help and parsing cannot disagree.
 */
import type { Command, OptionSpec } from "./command.js";
import { ExitCode } from "./exit-codes.js";

/** Flags every command accepts. */
export const globalOptions: Readonly<Record<string, OptionSpec>> = {
  "registry-url": {
    type: "string",
    valueName: "URL",
    description:
      "tracking + registry server (default: REGISTRY_URL, else MLFLOW_TRACKING_URI, else http://localhost:5000)",
  },
  "inference-url": {
    type: "string",
    valueName: "URL",
    description: "inference server (default http://localhost:8000)",
  },
  json: { type: "boolean", description: "machine-readable JSON on stdout instead of tables" },
  help: { type: "boolean", description: "show help" },
};

const sections = ["Servers", "Tracking", "Model registry", "Inference", "Access"] as const;

/** `mlpipe --help`. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = [
    "mlpipe: experiment tracking, model registry and ONNX inference",
    "",
    "Usage: mlpipe <command> [arguments] [flags]",
  ];
  for (const section of sections) {
    const inSection = commands.filter((c) => c.section === section);
    if (inSection.length === 0) continue;
    lines.push("", `${section}:`);
    for (const c of inSection) lines.push(`  ${c.name.padEnd(width)}${c.summary}`);
  }
  lines.push("", "Global flags:", ...optionLines(globalOptions), "", ...exitCodeLines());
  lines.push("", "Run `mlpipe <command> --help` for its arguments and flags.");
  return `${lines.join("\n")}\n`;
}

/** `mlpipe runs --help`: the subcommands of a group. */
export function groupHelp(group: string, commands: readonly Command[]): string {
  const inGroup = commands.filter((c) => c.name.startsWith(`${group} `));
  const width = Math.max(...inGroup.map((c) => c.name.length)) + 2;
  const lines = [`Usage: mlpipe ${group} <subcommand> ...`, "", "Subcommands:"];
  for (const c of inGroup) lines.push(`  ${c.name.padEnd(width)}${c.summary}`);
  lines.push("", `Run \`mlpipe ${group} <subcommand> --help\` for its arguments and flags.`);
  return `${lines.join("\n")}\n`;
}

/** `mlpipe <command> --help`. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: ${usageLine(command)}`, "", command.summary];
  if (command.details !== undefined) lines.push("", command.details);
  if (command.arguments.length > 0) {
    const width = Math.max(...command.arguments.map((a) => a.name.length)) + 4;
    lines.push("", "Arguments:");
    for (const a of command.arguments) lines.push(`  ${a.name.padEnd(width)}${a.description}`);
  }
  if (Object.keys(command.options).length > 0) lines.push("", "Flags:", ...optionLines(command.options));
  lines.push("", "Global flags:", ...optionLines(globalOptions));
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push("", "Examples:", ...command.examples.map((e) => `  mlpipe ${e}`));
  }
  return `${lines.join("\n")}\n`;
}

/** `mlpipe promote <model> <version> <stage> [flags]`. */
export function usageLine(command: Command): string {
  const args = command.arguments.map((a) => {
    const name = a.variadic === true ? `${a.name}...` : a.name;
    return a.optional === true ? `[${name}]` : `<${name}>`;
  });
  return ["mlpipe", command.name, ...args, "[flags]"].join(" ");
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const labels = Object.entries(options).map(([name, o]) => {
    const flag = name === "help" ? "-h, --help" : `--${name}`;
    return [o.type === "string" ? `${flag} ${o.valueName ?? "VALUE"}` : flag, o.description] as const;
  });
  const width = Math.max(...labels.map(([l]) => l.length)) + 2;
  return labels.map(([l, d]) => `  ${l.padEnd(width)}${d}`);
}

function exitCodeLines(): string[] {
  return [
    "Exit codes:",
    `  ${ExitCode.ok}  success (server commands: stopped by Ctrl-C or SIGTERM and shut down cleanly)`,
    `  ${ExitCode.serverError}  the server answered with an error, or a server failed`,
    `  ${ExitCode.usage}  usage error: unknown command or flag, bad or missing argument, bad variable`,
    `  ${ExitCode.unreachable}  a server could not be reached`,
  ];
}
