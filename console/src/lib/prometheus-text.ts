/**
 * A reader of the Prometheus text exposition format (version 0.0.4, what prom-client writes at
 * `/metrics`): sample lines `name{label="value",...} value [timestamp]`; comments and blank lines
 * are skipped. Label values may hold `\\`, `\"` and `\n` escapes. Values NaN, +Inf and -Inf are
 * read as numbers. A malformed line is skipped rather than failing the whole page.
 */

/** One sample of a scrape. */
export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const namePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** Every sample of a metrics page, in order. */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const sample = parseLine(line);
    if (sample !== undefined) samples.push(sample);
  }
  return samples;
}

function parseLine(line: string): PrometheusSample | undefined {
  const name = namePattern.exec(line)?.[0];
  if (name === undefined) return undefined;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      while (line[i] === " " || line[i] === ",") i++;
      if (line[i] === "}") {
        i++;
        break;
      }
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0];
      if (key === undefined || line[i + key.length] !== "=" || line[i + key.length + 1] !== '"') return undefined;
      i += key.length + 2;
      let value = "";
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === "\\") {
          i++;
          value += line[i] === "n" ? "\n" : (line[i] ?? "");
        } else {
          value += line[i];
        }
      }
      if (line[i] !== '"') return undefined;
      i++;
      labels[key] = value;
    }
  }
  const [valueText] = line.slice(i).trim().split(/\s+/);
  const value = parseValue(valueText ?? "");
  return value === undefined ? undefined : { name, labels, value };
}

function parseValue(text: string): number | undefined {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "" || !/^[-+]?[0-9.eE+-]+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}
