import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { describeWithTools, kubectlTool } from "../test/support/system-tools.js";

function build(overlay: string): string {
  return execFileSync(kubectlTool.command, ["kustomize", join(import.meta.dirname, "overlays", overlay)], {
    encoding: "utf8",
  });
}

/** The YAML documents of a build, split on `---`, each with its kind and name. */
function documents(yaml: string): { kind: string; name: string; text: string }[] {
  return yaml.split(/^---$/m).map((text) => ({
    kind: /^kind: (\S+)$/m.exec(text)?.[1] ?? "",
    name: /^ {2}name: (\S+)$/m.exec(text)?.[1] ?? "",
    text,
  }));
}

describeWithTools("kustomize overlays (kubectl kustomize)", [kubectlTool], () => {
  it("dev: one registry replica on a persistent volume (PGlite is single-process), recreated, never rolled", () => {
    const docs = documents(build("dev"));
    const registry = docs.find((d) => d.kind === "Deployment" && d.name === "mlpipe-registry");
    expect(registry?.text).toMatch(/replicas: 1\n/);
    expect(registry?.text).toMatch(/type: Recreate/);
    expect(registry?.text).toMatch(/claimName: mlpipe-registry-data/);
    expect(docs.some((d) => d.kind === "PersistentVolumeClaim")).toBe(true);
    expect(docs.every((d) => d.text.includes("namespace: mlpipe-dev") || d.kind === "")).toBe(true);
  });

  it("prod: registry on PostgreSQL/S3 secrets, inference autoscaled with probes and disruption budgets", () => {
    const docs = documents(build("prod"));
    const registry = docs.find((d) => d.kind === "Deployment" && d.name === "mlpipe-registry");
    const inference = docs.find((d) => d.kind === "Deployment" && d.name === "mlpipe-inference");
    expect(registry?.text).toMatch(/replicas: 2\n/);
    expect(registry?.text).toMatch(/secretRef:\n\s+name: mlpipe-secrets/);
    expect(inference?.text).toMatch(/readinessProbe:\n\s+grpc:\n\s+port: 8000/);
    expect(inference?.text).toMatch(/path: \/health\/live/);
    expect(inference?.text).toMatch(/prometheus.io\/scrape: "true"/);
    const hpa = docs.find((d) => d.kind === "HorizontalPodAutoscaler");
    expect(hpa?.text).toMatch(/name: mlpipe-inference/);
    expect(docs.filter((d) => d.kind === "PodDisruptionBudget")).toHaveLength(2);
    const config = docs.find((d) => d.kind === "ConfigMap");
    expect(config?.text).toMatch(/ARTIFACT_ROOT: s3:\/\/mlpipe-artifacts\/prod/);
    expect(config?.text).toMatch(/REGISTRY_URL: http:\/\/mlpipe-registry:5000/);
    // The console's Serving page reads the inference Service (one replica per read) through the registry.
    expect(config?.text).toMatch(/CONSOLE_INFERENCE_URL: http:\/\/mlpipe-inference:8000/);
  });
});
