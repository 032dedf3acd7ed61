import { type DestinationStream, type Logger as PinoLogger, type LoggerOptions as PinoOptions, pino } from "pino";

/** Log levels accepted by LOG_LEVEL, least to most severe, plus "silent". */
export const logLevels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** One of {@link logLevels}. */
export type LogLevel = (typeof logLevels)[number];

/** A structured (JSON lines) logger. */
export type Logger = PinoLogger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level written. */
  readonly level: LogLevel;
  /** Component name written as `name` on every line, e.g. "registry". */
  readonly name?: string;
  /** Where lines go; default stdout. */
  readonly destination?: DestinationStream;
}

/** Creates the process logger: one JSON object per line, `time` in ms since the epoch. */
export function createLogger(options: LoggerOptions): Logger {
  const base = options.name === undefined ? {} : { name: options.name };
  const opts: PinoOptions = {
    level: options.level,
    base,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return options.destination === undefined ? pino(opts) : pino(opts, options.destination);
}
