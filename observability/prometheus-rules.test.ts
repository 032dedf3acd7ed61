/**
 * The Prometheus rules as Prometheus itself reads them: `promtool check rules` on both rule files,
 * `promtool test rules` on their unit tests, `promtool check config` on the compose configuration, and the bookkeeping that keeps them complete: every
 * alert is tested both firing and not firing, carries a severity and annotations, and has its
 * runbook line in README.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parse } from "yaml";
import { describeWithTools, promtoolTool } from "../test/support/system-tools.js";
import { readRuleGroups } from "./rule-files.js";

const dir = join(import.meta.dirname, "prometheus");

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync(promtoolTool.command, args, { cwd: dir, encoding: "utf8", timeout: 280_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface AlertTest {
  readonly alertname: string;
  readonly exp_alerts?: readonly unknown[];
}
interface RuleTestFile {
  readonly rule_files: readonly string[];
  readonly tests: readonly { readonly alert_rule_test?: readonly AlertTest[] }[];
}

const alerts = readRuleGroups().flatMap((g) => g.rules.filter((r) => r.alert !== undefined));

describeWithTools("Prometheus rules (promtool)", [promtoolTool], () => {
  it("pass promtool check rules", () => {
    const result = promtool("check", "rules", "slo-recording-rules.yml", "alert-rules.yml");
    expect(result.output).toMatch(/SUCCESS: 14 rules found[\s\S]*SUCCESS: \d+ rules found/);
    expect(result.status, result.output).toBe(0);
  });

  it("docker-compose.yml's Prometheus configuration passes promtool check config", () => {
    // --syntax-only: the rule files it names are paths inside the Prometheus container.
    const result = promtool("check", "config", "--syntax-only", "prometheus-compose.yml");
    expect(result.status, result.output).toBe(0);
  });

  // promtool evaluates every test case's series over hours of simulated time: about 20 s here
  // alone, several times that on a loaded machine.
  it("pass their unit tests (promtool test rules)", { timeout: 300_000 }, () => {
    const result = promtool("test", "rules", "alert-rules.test.yml");
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain("SUCCESS");
  });
});

it("every alert is unit-tested firing and not firing", () => {
  const tests = parse(readFileSync(join(dir, "alert-rules.test.yml"), "utf8")) as RuleTestFile;
  expect(tests.rule_files).toEqual(["slo-recording-rules.yml", "alert-rules.yml"]);
  const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
  expect(alerts.length).toBeGreaterThanOrEqual(11);
  for (const rule of alerts) {
    const mine = cases.filter((c) => c.alertname === rule.alert);
    expect(
      mine.some((c) => (c.exp_alerts ?? []).length > 0),
      `${rule.alert} is never expected to fire`,
    ).toBe(true);
    expect(
      mine.some((c) => (c.exp_alerts ?? []).length === 0),
      `${rule.alert} is never expected to stay silent`,
    ).toBe(true);
  }
  const unknown = cases.map((c) => c.alertname).filter((name) => !alerts.some((a) => a.alert === name));
  expect(unknown, "tests of alerts that do not exist").toEqual([]);
});

it("every alert has a severity, a summary, a description and a runbook line in README.md", () => {
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  const section = /^### Alerts\n([\s\S]*?)(?=^#{1,3} )/m.exec(readme)?.[1] ?? "";
  expect(section, "README.md has no '### Alerts' section").not.toBe("");
  for (const rule of alerts) {
    expect(["page", "ticket"], `${rule.alert} severity`).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
    expect(rule.annotations?.description, `${rule.alert} description`).toBeTruthy();
    expect(rule.annotations?.runbook, `${rule.alert} runbook`).toBe("README.md#alerts");
    expect(section, `README.md runbook line for ${rule.alert}`).toMatch(
      new RegExp(`^- \\*\\*${rule.alert}\\*\\* `, "m"),
    );
  }
});
