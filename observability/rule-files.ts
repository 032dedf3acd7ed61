/**
 * Reads mlpipe's Prometheus rule files (observability/prometheus), for the tests that check them
 * with promtool and evaluate them against a live Prometheus.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** The rule files, in the order Prometheus loads them (recording rules first). */
export const ruleFiles: readonly string[] = ["slo-recording-rules.yml", "alert-rules.yml"].map((f) =>
  join(import.meta.dirname, "prometheus", f),
);

/** One rule: a recording rule (`record`) or an alerting rule (`alert`). */
export interface Rule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A rule group. */
export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

/** Every group of every rule file. */
export function readRuleGroups(): RuleGroup[] {
  return ruleFiles.flatMap((file) => (parse(readFileSync(file, "utf8")) as { groups: RuleGroup[] }).groups);
}
