/**
 * A real browser for tests, benchmarks and screenshots: Debian's chromium driven by playwright-core
 * (browsers cannot be downloaded here; playwright-core brings none), headless, with a fresh profile
 * directory that is deleted on close.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import type { SystemTool } from "./system-tools.js";

/** Debian's chromium, which the console's browser tests drive. */
export const chromiumTool: SystemTool = {
  command: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  probeArgs: ["--version"],
  install: "apt-get install chromium",
};

/** Flags for a quiet, reproducible headless run: no sandbox (root in CI), no GPU, no background traffic. */
const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** A running browser with its own profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  /**
   * Closes the browser and deletes its profile. Bounded: after 10 s it stops waiting (playwright
   * kills the browsers it launched when this process exits).
   */
  close(): Promise<void>;
}

/** Options of {@link launchBrowser}. */
export interface LaunchBrowserOptions {
  /** Viewport in CSS px (default 1280 x 800). */
  readonly viewport?: { readonly width: number; readonly height: number };
}

/** Starts headless chromium with a fresh profile directory. */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "mlpipe-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumTool.command,
      headless: true,
      args: chromiumArgs,
      viewport: { width: options.viewport?.width ?? 1280, height: options.viewport?.height ?? 800 },
      timeout: 60_000,
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    async close() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 10_000);
      });
      await Promise.race([context.close().catch(() => {}), timeout]).finally(() => clearTimeout(timer));
      await rm(profile, { recursive: true, force: true });
    },
  };
}
