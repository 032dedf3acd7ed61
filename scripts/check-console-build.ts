/**
 * Fails when console/dist/ (committed, served by the registry without a build step) is not exactly
 * what `npm run console:build` makes from console/ and gen/: a change to the console's sources
 * cannot land without its build. Builds into a temporary directory (about 5 s) and compares bytes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";
import { listFiles, staleFiles } from "./tree-diff.js";

const root = join(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "mlpipe-console-build-"));
try {
  await build({
    configFile: join(root, "console", "vite.config.ts"),
    logLevel: "warn",
    build: { outDir: work, emptyOutDir: true },
  });
  const stale = staleFiles(work, join(root, "console", "dist"));
  if (stale.length > 0) {
    console.error(`console/dist/ is stale (${stale.join(", ")}): run \`npm run console:build\` and commit the result`);
    process.exit(1);
  }
  console.log(`console/dist/ is fresh (${listFiles(work).length} files)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
