/**
 * Every overlay as `kubectl kustomize` builds it, each object validated offline against the
 * Kubernetes API schemas (kubernetes-models, Kubernetes 1.27; the Prometheus Operator's for
 * ServiceMonitor), then what each overlay promises: probes on the real health endpoints, a
 * headless Service for gRPC client-side balancing, network policies, scraping, autoscaling.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, PersistentVolumeClaim, Service } from "kubernetes-models/v1";
import { afterAll, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { describeWithTools, kubectlTool } from "../test/support/system-tools.js";

/** What every object built here has. */
interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: unknown;
}

/** The schema of each kind the overlays may contain; a kind missing here fails the test. */
const schemas: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

const overlaysDir = join(import.meta.dirname, "overlays");
const overlays = readdirSync(overlaysDir);
const scratch = mkdtempSync(join(tmpdir(), "mlpipe-kustomize-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function build(dir: string): KubeObject[] {
  const yaml = execFileSync(kubectlTool.command, ["kustomize", dir], { encoding: "utf8" });
  return parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject);
}

/** The prod overlay with the optional in-flight autoscaling component, as a user would add it. */
function buildWithInFlightAutoscaling(): KubeObject[] {
  const dir = join(scratch, "prod-in-flight");
  rmSync(dir, { recursive: true, force: true });
  execFileSync("mkdir", ["-p", dir]);
  // kustomize takes relative paths only.
  const path = (...parts: string[]) => relative(dir, join(import.meta.dirname, ...parts));
  writeFileSync(
    join(dir, "kustomization.yaml"),
    `resources: [${path("overlays", "prod")}]\ncomponents: [${path("components", "in-flight-autoscaling")}]\n`,
  );
  return build(dir);
}

/** The object of that kind and name (a generated ConfigMap's name has a hash suffix). */
function find<T = unknown>(objects: KubeObject[], kind: string, name: string): T {
  const found = objects.find(
    (o) =>
      o.kind === kind && (o.metadata.name === name || (kind === "ConfigMap" && o.metadata.name.startsWith(`${name}-`))),
  );
  expect(found, `${kind} ${name}`).toBeDefined();
  return found as T;
}

interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: string | number };
  readonly grpc?: { readonly port: number };
}
interface Container {
  readonly args: string[];
  readonly startupProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly securityContext?: { readonly readOnlyRootFilesystem?: boolean; readonly allowPrivilegeEscalation?: boolean };
}
type DeploymentShape = {
  spec: { replicas: number; template: { spec: { containers: Container[]; volumes: { name: string }[] } } };
};

describeWithTools("Kubernetes manifests (kubectl kustomize + API schemas)", [kubectlTool], () => {
  it.each(overlays)("overlay %s: every object is valid against its API schema", (overlay) => {
    const objects = build(join(overlaysDir, overlay));
    expect(objects.length).toBeGreaterThan(5);
    for (const o of objects) {
      const Model = schemas[`${o.apiVersion}/${o.kind}`];
      expect(Model, `no schema for ${o.apiVersion} ${o.kind}: add it to the table`).toBeDefined();
      if (Model === undefined) continue;
      expect(() => new Model(o as never).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
  });

  it("validation catches a malformed object (the check can fail)", () => {
    const bad = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { template: {} } };
    expect(() => new Deployment(bad as never).validate()).toThrow(/selector/);
  });

  it("dev: one registry replica on a persistent volume (PGlite is single-process), recreated, never rolled", () => {
    const objects = build(join(overlaysDir, "dev"));
    const registry = find<DeploymentShape & { spec: { strategy: { type: string } } }>(
      objects,
      "Deployment",
      "mlpipe-registry",
    );
    expect(registry.spec.replicas).toBe(1);
    expect(registry.spec.strategy.type).toBe("Recreate");
    expect(JSON.stringify(registry.spec.template.spec.volumes)).toContain('"claimName":"mlpipe-registry-data"');
    expect(objects.some((o) => o.kind === "PersistentVolumeClaim")).toBe(true);
    expect(objects.every((o) => o.metadata.namespace === "mlpipe-dev")).toBe(true);
    expect(objects.some((o) => o.kind === "ServiceMonitor")).toBe(false);
  });

  it("every overlay probes the real health endpoints: registry (database) and inference (model loaded)", () => {
    for (const overlay of overlays) {
      const objects = build(join(overlaysDir, overlay));
      const [registry] = find<DeploymentShape>(objects, "Deployment", "mlpipe-registry").spec.template.spec.containers;
      expect(registry?.args).toEqual(["registry"]);
      expect(registry?.startupProbe?.httpGet).toEqual({ path: "/health/ready", port: "rpc" });
      expect(registry?.readinessProbe?.grpc).toEqual({ port: 5000 });
      expect(registry?.livenessProbe?.httpGet).toEqual({ path: "/health/live", port: "rpc" });
      const [inference] = find<DeploymentShape>(objects, "Deployment", "mlpipe-inference").spec.template.spec
        .containers;
      expect(inference?.args).toEqual(["serve"]);
      expect(inference?.readinessProbe?.grpc).toEqual({ port: 8000 });
      expect(inference?.livenessProbe?.httpGet).toEqual({ path: "/health/live", port: "http" });
      for (const c of [registry, inference]) {
        expect(c?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      }
    }
  });

  it("prod: gRPC clients get a headless Service; the ServiceMonitors select only the ClusterIP ones", () => {
    const objects = build(join(overlaysDir, "prod"));
    const headless = find<{ spec: { clusterIP: string; ports: { port: number }[] } }>(
      objects,
      "Service",
      "mlpipe-inference-grpc",
    );
    expect(headless.spec.clusterIP).toBe("None");
    expect(headless.spec.ports[0]?.port).toBe(8000);
    const labelsOf = (name: string) => find<{ metadata: { labels: object } }>(objects, "Service", name).metadata.labels;
    for (const name of ["mlpipe-registry", "mlpipe-inference"]) {
      const monitor = find<{ spec: { selector: { matchLabels: Record<string, string> } } }>(
        objects,
        "ServiceMonitor",
        name,
      );
      const selects = (labels: object) =>
        Object.entries(monitor.spec.selector.matchLabels).every(
          ([k, v]) => (labels as Record<string, string>)[k] === v,
        );
      expect(selects(labelsOf(name)), `${name} ServiceMonitor selects its Service`).toBe(true);
      expect(selects(labelsOf("mlpipe-inference-grpc")), `${name} ServiceMonitor skips the headless Service`).toBe(
        false,
      );
    }
    for (const name of ["mlpipe-registry", "mlpipe-inference"]) find(objects, "NetworkPolicy", name);
  });

  it("prod: secrets, S3, autoscaling on CPU (autoscaling/v2, no targetAverageUtilization) and disruption budgets", () => {
    const objects = build(join(overlaysDir, "prod"));
    const registry = find<DeploymentShape>(objects, "Deployment", "mlpipe-registry");
    expect(registry.spec.replicas).toBe(2);
    expect(JSON.stringify(registry.spec.template.spec.containers)).toContain('"secretRef":{"name":"mlpipe-secrets"}');
    const hpa = find<{ spec: { metrics: { type: string; resource?: { name: string } }[] } }>(
      objects,
      "HorizontalPodAutoscaler",
      "mlpipe-inference",
    );
    expect(hpa.spec.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
    ]);
    expect(JSON.stringify(objects)).not.toContain("targetAverageUtilization");
    expect(objects.filter((o) => o.kind === "PodDisruptionBudget")).toHaveLength(2);
    const config = find<{ data: Record<string, string> }>(objects, "ConfigMap", "mlpipe-config");
    expect(config.data.ARTIFACT_ROOT).toBe("s3://mlpipe-artifacts/prod");
    expect(config.data.REGISTRY_URL).toBe("http://mlpipe-registry:5000");
    // Authentication on: the registry's bootstrap token from the mlpipe-auth Secret, the inference
    // servers' token in MLPIPE_TOKEN.
    expect(config.data.REGISTRY_AUTH).toBe("token");
    expect(config.data.INFERENCE_AUTH).toBe("token");
    expect(JSON.stringify(registry.spec.template.spec)).toContain('"secretName":"mlpipe-auth"');
    const inference = find<DeploymentShape>(objects, "Deployment", "mlpipe-inference");
    expect(JSON.stringify(inference.spec.template.spec.containers)).toContain(
      '"name":"MLPIPE_TOKEN","valueFrom":{"secretKeyRef":{"key":"inference-token","name":"mlpipe-auth"}}',
    );
    // The console's Serving page reads the inference Service (one replica per read) through the registry.
    expect(config.data.CONSOLE_INFERENCE_URL).toBe("http://mlpipe-inference:8000");
  });

  it("staging: production's setup in its own namespace with its own artifact prefix", () => {
    const objects = build(join(overlaysDir, "staging"));
    expect(objects.every((o) => o.metadata.namespace === "mlpipe-staging")).toBe(true);
    const config = find<{ data: Record<string, string> }>(objects, "ConfigMap", "mlpipe-config");
    expect(config.data.ARTIFACT_ROOT).toBe("s3://mlpipe-artifacts/staging");
    expect(objects.filter((o) => o.kind === "ServiceMonitor")).toHaveLength(2);
  });

  it("the in-flight autoscaling component adds the prometheus-adapter metric beside CPU", () => {
    const objects = buildWithInFlightAutoscaling();
    const hpa = find<{ spec: { metrics: { type: string }[] } }>(objects, "HorizontalPodAutoscaler", "mlpipe-inference");
    expect(() => new HorizontalPodAutoscaler(hpa as never).validate()).not.toThrow();
    expect(hpa.spec.metrics).toEqual([
      expect.objectContaining({ type: "Resource" }),
      {
        type: "Pods",
        pods: {
          metric: { name: "inference_in_flight_requests" },
          target: { type: "AverageValue", averageValue: "64" },
        },
      },
    ]);
  });
});
