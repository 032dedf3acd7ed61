import { Writable } from "node:stream";

/** A JSON log captured in memory: the logger's destination and the lines it received, parsed. */
export interface CapturedLog {
  /** Log lines written so far, parsed (JSON objects), oldest first. */
  readonly lines: Record<string, unknown>[];
  /** Pass as the logger's `destination`. */
  readonly destination: Writable;
}

/** A destination for `createLogger` that keeps every JSON line written to it (blank lines skipped). */
export function captureLog(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { lines, destination };
}
