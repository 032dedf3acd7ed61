import { parseArgs } from "node:util";
import { commonErrors } from "../core/errors/common-errors.js";
import { isStageName } from "../sdk/index.js";
import type { TrainIrisOptions } from "./train-iris.js";

const flags = {
  "tracking-url": { type: "string" },
  experiment: { type: "string" },
  "run-name": { type: "string" },
  epochs: { type: "string" },
  lr: { type: "string" },
  seed: { type: "string" },
  register: { type: "boolean" },
  "model-name": { type: "string" },
  stage: { type: "string" },
} as const;

/**
 * Parses the command line of training/train-iris.ts into {@link TrainIrisOptions}: `--tracking-url`,
 * `--experiment`, `--run-name`, `--epochs`, `--lr`, `--seed`, `--register`, `--model-name`,
 * `--stage` (None, Staging, Production or Archived). Rejects unknown flags, positionals and bad
 * values with INVALID_ARGUMENT naming the flag.
 */
export function parseTrainIrisArgs(argv: readonly string[]): TrainIrisOptions {
  let values: ReturnType<typeof parseArgs<{ options: typeof flags }>>["values"];
  try {
    values = parseArgs({ args: [...argv], options: flags, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // node:util's message names the flag, e.g. "Unknown option '--epoch'".
    throw commonErrors.invalidArgument("command line", err instanceof Error ? err.message : String(err));
  }
  const stage = values.stage;
  if (stage !== undefined && !isStageName(stage)) {
    throw commonErrors.invalidArgument("--stage", `must be None, Staging, Production or Archived, got "${stage}"`);
  }
  return {
    ...(values["tracking-url"] === undefined ? {} : { trackingUrl: values["tracking-url"] }),
    ...(values.experiment === undefined ? {} : { experiment: values.experiment }),
    ...(values["run-name"] === undefined ? {} : { runName: values["run-name"] }),
    ...(values.epochs === undefined ? {} : { epochs: integer("--epochs", values.epochs) }),
    ...(values.lr === undefined ? {} : { learningRate: positive("--lr", values.lr) }),
    ...(values.seed === undefined ? {} : { seed: integer("--seed", values.seed) }),
    ...(values.register === undefined ? {} : { register: values.register }),
    ...(values["model-name"] === undefined ? {} : { modelName: values["model-name"] }),
    ...(stage === undefined ? {} : { stage }),
  };
}

function integer(flag: string, text: string): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw commonErrors.invalidArgument(flag, `"${text}" is not an integer`);
  }
  return n;
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw commonErrors.invalidArgument(flag, `"${text}" is not a number > 0`);
  }
  return n;
}
