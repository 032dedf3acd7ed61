/**
 * The web console end to end, in a real browser (Debian's chromium driven by playwright-core)
 * against a real `mlpipe start` (free ports, temporary data directory), as a user goes: open the
 * console, find the demo run, open its loss chart, compare two runs, promote a version (with
 * confirmation) and see the audit entry, the live view and the inference server answering the new
 * version. Every page passes axe-core's WCAG 2 A/AA rules, works by keyboard, and fits a phone's
 * width. Waits are bounded (playwright's timeouts, 30 s); the browser and the platform are stopped
 * and their directories deleted whatever happens.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createMlpipeClient } from "../../sdk/index.js";
import { chromiumTool, launchBrowser, type TestBrowser } from "../../test/support/browser.js";
import { type PlatformProcess, startPlatformProcess } from "../../test/support/platform-process.js";
import { describeWithTools } from "../../test/support/system-tools.js";
import { trainIris } from "../../training/train-iris.js";

/** axe-core's browser bundle, evaluated in the page (the console's CSP rightly refuses injected script tags). */
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** An axe-core violation, as much of it as a failure message needs. */
interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

/** WCAG 2.0/2.1 A and AA violations on the page as it is now. */
async function accessibilityViolations(page: Page): Promise<string[]> {
  // Strings, not functions: they run in the page, whose DOM types this Node project does not load.
  if ((await page.evaluate("typeof axe")) === "undefined") await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    'axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }).then((r) => r.violations)',
  )) as AxeViolation[];
  return violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
}

describeWithTools("web console in chromium against npm start", [chromiumTool], () => {
  const children: ChildProcess[] = [];
  let dataDir: string;
  let platform: PlatformProcess;
  let browser: TestBrowser;
  let page: Page;
  let notesRunId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "mlpipe-console-e2e-"));
    platform = await startPlatformProcess({ dataDir, children });
    // A second run (registered as version 2, in no stage yet) to compare with the demo and to promote.
    const trained = await trainIris({
      trackingUrl: platform.ready.registryUrl,
      runName: "sweep-lr-0.1",
      learningRate: 0.1,
      epochs: 120,
      seed: 3,
      register: true,
    });
    expect(trained.modelVersion?.version).toBe(2n);
    // A run with a JSON artifact to preview and download, in an experiment of its own.
    const summary = join(dataDir, "summary.json");
    writeFileSync(summary, JSON.stringify({ accuracy: 0.97, classes: ["setosa", "versicolor", "virginica"] }));
    const client = createMlpipeClient({ url: platform.ready.registryUrl });
    notesRunId = await client.withRun({ experiment: "notes", runName: "with-artifacts" }, async (run) => {
      await run.logArtifact(summary, "reports/summary.json");
      return run.runId;
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it("opens at / on the experiments, finds the demo run through the runs table and its filter", async () => {
    await page.goto(`${platform.ready.registryUrl}/`);
    await page.waitForURL(/\/experiments$/);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole("link", { name: "iris", exact: true }).click();
    await page.getByRole("heading", { name: "Runs of iris" }).waitFor();
    await page.getByRole("link", { name: "iris-demo" }).waitFor();
    await page.getByRole("link", { name: "sweep-lr-0.1" }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);

    // A malformed filter: the server's error, pointed at the position it names.
    const filter = page.getByLabel("Filter", { exact: true });
    await filter.fill("metrics.accuracy >");
    await page.getByRole("button", { name: "Apply" }).click();
    const alert = page.getByRole("alert");
    await alert.getByText(/Invalid filter at position \d+/).waitFor();
    expect(await filter.getAttribute("aria-invalid")).toBe("true");
    expect(await accessibilityViolations(page)).toEqual([]);

    await filter.fill("run_name = 'iris-demo'");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("link", { name: "sweep-lr-0.1" }).waitFor({ state: "detached" });
    await expect.poll(() => page.locator("table.runs-table tbody tr").count(), { timeout: 30_000 }).toBe(1);

    // Sorting is server-side: the accuracy column header orders every run, best first.
    await filter.fill("");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("link", { name: "sweep-lr-0.1" }).waitFor();
    await page
      .getByRole("button", { name: /accuracy/ })
      .first()
      .click();
    await page.waitForURL(/sort=metrics\.accuracy&dir=desc/);
    await expect
      .poll(() => page.locator("table.runs-table tbody tr td:nth-child(2)").allTextContents(), { timeout: 30_000 })
      .toEqual(["iris-demo", "sweep-lr-0.1"]);
  });

  it("opens the demo run's loss chart with its full history", async () => {
    await page.getByRole("link", { name: "iris-demo" }).click();
    await page.getByRole("heading", { name: "Run iris-demo" }).waitFor();
    const loss = page.getByRole("figure", { name: "loss chart", exact: true });
    await loss.locator('.chart[data-ready="true"]').waitFor();
    const label = await loss.getByRole("img").getAttribute("aria-label");
    expect(label).toMatch(/^Line chart of loss\. iris-demo: 300 points, last 0\.\d+ at step 300$/);
    await loss.getByRole("button", { name: "Show data" }).click();
    await expect.poll(() => loss.locator("tbody tr").count()).toBe(200);
    expect(await loss.locator("tbody tr").last().locator("td").first().textContent()).toBe("300");
    // Log scale and smoothing redraw the same chart.
    await page.getByLabel("Log scale").first().check();
    await page.getByLabel("Smoothing").first().fill("0.8");
    await loss.locator('.chart[data-ready="true"]').waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "model/" }).click();
    await page.getByRole("cell", { name: "model.onnx" }).waitFor();
    await page.getByRole("link", { name: "iris-classifier version 1" }).waitFor();
  });

  it("compares two runs: overlaid histories, parallel coordinates and the params that differ", async () => {
    await page.goBack();
    await page.getByRole("heading", { name: "Runs of iris" }).waitFor();
    await page.getByLabel("Select run iris-demo for comparison").check();
    await page.getByLabel("Select run sweep-lr-0.1 for comparison").check();
    await page.getByRole("button", { name: "Compare selected (2)" }).click();
    await page.getByRole("heading", { name: "Compare 2 runs" }).waitFor();
    const chart = page.getByRole("figure", { name: "loss chart", exact: true });
    await chart.locator('.chart[data-ready="true"]').waitFor();
    const label = (await chart.getByRole("img").getAttribute("aria-label")) ?? "";
    expect(label).toContain("iris-demo: 300 points");
    expect(label).toContain("sweep-lr-0.1: 120 points");
    await page.locator('.parallel-chart .chart[data-ready="true"]').waitFor();
    const diff = page.locator("table.diff-table");
    expect(await diff.locator("tbody th").allTextContents()).toEqual(
      expect.arrayContaining(["paramepochs", "paramlearning_rate", "paramseed", "metricloss"]),
    );
    expect(await diff.locator("tbody th").allTextContents()).not.toContain("paramoptimizer");
    expect(await accessibilityViolations(page)).toEqual([]);
  });

  it("browses a run's artifacts: previews JSON and downloads a file checked against its SHA-256", async () => {
    await page.goto(`${platform.ready.registryUrl}/runs/${notesRunId}`);
    await page.getByRole("heading", { name: "Run with-artifacts" }).waitFor();
    await page.getByRole("button", { name: "reports/" }).click();
    await page.getByRole("button", { name: "Preview summary.json" }).click();
    const preview = page.getByRole("region", { name: "Preview of reports/summary.json" });
    await preview.locator("pre").getByText('"versicolor"').waitFor();
    expect(await preview.locator("pre").textContent()).toContain('  "accuracy": 0.97');
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download summary.json" }).click();
    expect((await download).suggestedFilename()).toBe("summary.json");
    await page.getByText("Downloaded reports/summary.json (").waitFor();
    expect(await page.getByText("Downloaded reports/summary.json (").textContent()).toContain("SHA-256 checked");
    expect(await accessibilityViolations(page)).toEqual([]);
  });

  it("promotes version 2 after confirmation; the audit entry, the live view and the inference server follow", async () => {
    await page.getByRole("link", { name: "Models" }).click();
    await page.getByRole("link", { name: "iris-classifier" }).click();
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.getByRole("button", { name: "Change stage of version 2" }).click();
    const dialog = page.getByRole("dialog", { name: "Change the stage of iris-classifier version 2" });
    await dialog.waitFor();
    // Escape cancels: nothing changes.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Change stage of version 2" }).click();
    await dialog.getByLabel("New stage").selectOption({ label: "Production" });
    expect(await dialog.getByLabel(/Archive the other versions in Production/).isChecked()).toBe(true);
    expect(await accessibilityViolations(page)).toEqual([]);
    await dialog.getByRole("button", { name: "Move to Production" }).click();
    await dialog.waitFor({ state: "hidden" });

    const production = page.locator(".stage-card.stage-production").first();
    await production.getByText("v2", { exact: true }).waitFor();
    await page.locator(".stage-card.stage-archived").first().getByText("v1", { exact: true }).waitFor();
    const timeline = page.getByRole("list", { name: "Registry events, newest first" });
    await timeline.getByText("version 2: None → Production").waitFor();
    const entry = timeline.locator("li").filter({ hasText: "version 2: None → Production" });
    expect(await entry.textContent()).toContain("by console");

    // The inference server hot-swaps to version 2 (bounded: 60 s).
    const deadline = Date.now() + 60_000;
    let served = "";
    while (served !== "2" && Date.now() < deadline) {
      const res = await fetch(`${platform.ready.inferenceUrl}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ features: [5.1, 3.5, 1.4, 0.2] }),
      });
      served = ((await res.json()) as { model_version?: string }).model_version ?? "";
      if (served !== "2") await new Promise((r) => setTimeout(r, 100));
    }
    expect(served).toBe("2");
    await page.getByRole("link", { name: "Serving" }).click();
    await page.getByRole("heading", { name: "iris-classifier version 2" }).waitFor();
    await page.getByText("version 2 (in sync)").waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
  });

  it("shows a change made elsewhere without a reload (Watch stream)", async () => {
    await page.goto(`${platform.ready.registryUrl}/models/iris-classifier`);
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    const client = createMlpipeClient({ url: platform.ready.registryUrl, actor: "bob" });
    await client.registry.setRegisteredModelAlias({ name: "iris-classifier", alias: "champion", version: 2n });
    await page.locator(".stage-card").getByText("@champion → v2").waitFor();
    await page
      .getByRole("list", { name: "Registry events, newest first" })
      .getByText("alias @champion → version 2")
      .waitFor();
  });

  it("works by keyboard and at a phone's width", async () => {
    await page.goto(`${platform.ready.registryUrl}/runs?e=1`);
    await page.getByRole("link", { name: "iris-demo" }).waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate("document.activeElement?.id")).toBe("main");

    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("link", { name: "iris-demo" }).waitFor();
    // Wide tables scroll inside their own box; the page itself never scrolls sideways.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.goto(`${platform.ready.registryUrl}/models/iris-classifier`);
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
