/**
 * Screenshots of the console's main pages for the README (docs/console-*.png), taken in headless
 * chromium from a fresh `mlpipe start` (temporary data directory, free ports) with a small sweep of
 * iris runs, a second registered version in Staging and an alias, so the pages show real data.
 *
 *   npx tsx scripts/console-screenshots.ts [--out docs]
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { createMlpipeClient } from "../sdk/index.js";
import { launchBrowser } from "../test/support/browser.js";
import { startPlatformProcess } from "../test/support/platform-process.js";
import { trainIris } from "../training/train-iris.js";

const { values } = parseArgs({ options: { out: { type: "string", default: "docs" } } });
const out = values.out ?? "docs";
const children: ChildProcess[] = [];
const dataDir = await mkdtemp(join(tmpdir(), "mlpipe-screenshots-"));
const platform = await startPlatformProcess({ dataDir, children });
const browser = await launchBrowser();
try {
  const url = platform.ready.registryUrl;
  const sweep: { lr: number; epochs: number }[] = [
    { lr: 0.05, epochs: 200 },
    { lr: 0.1, epochs: 200 },
    { lr: 0.2, epochs: 300 },
    { lr: 1, epochs: 300 },
  ];
  const runIds: string[] = [];
  for (const [i, s] of sweep.entries()) {
    const r = await trainIris({
      trackingUrl: url,
      runName: `sweep-lr-${s.lr}`,
      learningRate: s.lr,
      epochs: s.epochs,
      seed: 7 + i,
      register: i === sweep.length - 1,
    });
    runIds.push(r.runId);
  }
  const client = createMlpipeClient({ url, actor: "alice" });
  await client.setStage("iris-classifier", 2n, "Staging");
  await client.registry.setRegisteredModelAlias({ name: "iris-classifier", alias: "challenger", version: 2n });
  // Some traffic for the Serving page, until the screenshots are taken.
  let trafficOn = true;
  const traffic = (async () => {
    while (trafficOn) {
      await fetch(`${platform.ready.inferenceUrl}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ features: [5.1, 3.5, 1.4, 0.2] }),
      });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const page = await browser.context.newPage();
  const shoot = async (path: string, name: string, ready: (p: Page) => Promise<unknown>) => {
    await page.goto(`${url}${path}`);
    await ready(page);
    await page.screenshot({ path: join(out, `console-${name}.png`), fullPage: false });
    console.log(`docs: ${join(out, `console-${name}.png`)}`);
  };
  const chartsReady = (p: Page) => p.locator('.chart[data-ready="true"]').first().waitFor({ timeout: 30_000 });
  await shoot("/runs?e=1", "runs", (p) => p.getByRole("link", { name: "iris-demo" }).waitFor());
  await shoot(`/runs/${runIds[2]}`, "run", async (p) => {
    await chartsReady(p);
    await p.getByRole("group", { name: "Chart settings" }).scrollIntoViewIfNeeded();
    await p.mouse.wheel(0, 400);
    await p.waitForTimeout(500);
  });
  await shoot(`/compare?runs=${runIds.join(",")}`, "compare", async (p) => {
    await chartsReady(p);
    await p.getByRole("heading", { name: "Params against loss" }).scrollIntoViewIfNeeded();
    await p.waitForTimeout(500);
  });
  await shoot("/models/iris-classifier", "model", (p) => p.getByRole("status").filter({ hasText: "Live" }).waitFor());
  await shoot("/serving", "serving", async (p) => {
    await p.getByText("in sync").waitFor({ timeout: 30_000 });
    await p.waitForTimeout(5_500);
  });
  trafficOn = false;
  await traffic;
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot("/runs?e=1", "runs-phone", (p) => p.getByRole("link", { name: "iris-demo" }).waitFor());
} finally {
  await browser.close();
  await platform.stop();
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
}
