/**
 * The dependency direction of DEVELOPERS.md, enforced: every relative import of a production file
 * (not a test) must point to its own folder or to one the table below allows. A lower layer that
 * imports a higher one (registry -> gateway, server -> registry, core -> anything) fails here with
 * the file and the import, and production code never imports test code.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

/** Top-level folder -> the top-level folders its production code may import (besides itself). */
const allowedImports: Readonly<Record<string, readonly string[]>> = {
  gen: [],
  core: ["gen"],
  storage: ["core", "gen"],
  tracking: ["storage", "core", "gen"],
  registry: ["tracking", "storage", "core", "gen"],
  server: ["core", "gen"],
  sdk: ["core", "gen"],
  training: ["sdk", "core", "gen"],
  auth: ["storage", "core", "gen"],
  gateway: ["auth", "tracking", "registry", "server", "core", "gen"],
  app: ["gateway", "auth", "tracking", "registry", "server", "storage", "sdk", "training", "core", "gen"],
  cli: ["app", "sdk", "core", "gen"],
};

/** Folders of tooling (benchmarks, examples, scripts, manifests, tests): they may import any layer. */
const tooling = new Set(["bench", "examples", "scripts", "k8s", "test", "bin", "console", "docs"]);

/** Relative import specifiers of a source file: static imports/exports and dynamic import(). */
function relativeImports(text: string): string[] {
  const specs: string[] = [];
  const pattern =
    /(?:^|[^\w.])(?:import|export)\s[^"';]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/gm;
  for (const m of text.matchAll(pattern)) {
    const spec = m[1] ?? m[2];
    if (spec !== undefined) specs.push(spec);
  }
  return specs;
}

interface Violation {
  readonly file: string;
  readonly imports: string;
  readonly reason: string;
}

function violations(): Violation[] {
  const files = execFileSync("git", ["ls-files", "*.ts", "*.mts", "*.tsx"], { cwd: root, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "" && !/\.test\.tsx?$/.test(f));
  const found: Violation[] = [];
  for (const file of files) {
    const layer = file.split("/")[0] ?? "";
    if (!file.includes("/") || tooling.has(layer)) continue;
    const allowed = allowedImports[layer];
    for (const spec of relativeImports(readFileSync(join(root, file), "utf8"))) {
      const target = normalize(join(dirname(file), spec));
      const targetLayer = target.split("/")[0] ?? "";
      if (allowed === undefined) {
        found.push({ file, imports: target, reason: `${layer}/ is not in the layer table` });
      } else if (target.startsWith("..")) {
        found.push({ file, imports: spec, reason: "imports from outside the repository" });
      } else if (/\.test\.tsx?$|\.test\.js$/.test(target) || targetLayer === "test") {
        found.push({ file, imports: target, reason: "production code imports test code" });
      } else if (targetLayer !== layer && !allowed.includes(targetLayer)) {
        found.push({ file, imports: target, reason: `${layer}/ may not import ${targetLayer}/` });
      }
    }
  }
  return found;
}

describe("layering (DEVELOPERS.md)", () => {
  it("finds the imports it checks (a parser that sees none would pass anything)", () => {
    expect(relativeImports('import { a } from "../core/x.js";\nexport type { B } from "./b.js";')).toEqual([
      "../core/x.js",
      "./b.js",
    ]);
    expect(relativeImports('const m = await import("../../app/platform.js");')).toEqual(["../../app/platform.js"]);
    expect(relativeImports('import {\n  a,\n  b,\n} from "../gen/y.js";')).toEqual(["../gen/y.js"]);
  });

  it("has every production import point down the layers", () => {
    expect(violations()).toEqual([]);
  });
});
