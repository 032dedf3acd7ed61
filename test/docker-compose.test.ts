/**
 * docker-compose.yml and its local override as Compose resolves them (`docker-compose config`;
 * no daemon needed). scripts/compose-e2e.sh runs the stack for real; this checks the wiring every
 * run: both replicas follow the same model in the same registry, the registry waits for its
 * database and bucket, Prometheus gets the rules and Grafana the dashboards, and the override only
 * swaps images.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parse } from "yaml";
import { describeWithTools, dockerComposeTool } from "./support/system-tools.js";

const repo = join(import.meta.dirname, "..");

interface Service {
  readonly image?: string;
  readonly command?: string[];
  readonly environment?: Record<string, string>;
  readonly depends_on?: Record<string, { condition: string }>;
  readonly volumes?: (string | { source?: string; target: string })[];
  readonly read_only?: boolean;
  readonly profiles?: string[];
}

function config(...files: string[]): Record<string, Service> {
  const args = files.flatMap((f) => ["-f", f]);
  const text = execFileSync(dockerComposeTool.command, [...args, "config"], {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, MLPIPE_IMAGE: "" },
  });
  return (parse(text) as { services: Record<string, Service> }).services;
}

const targets = (s: Service | undefined) =>
  (s?.volumes ?? []).map((v) => (typeof v === "string" ? v.split(":")[1] : v.target));

describeWithTools("docker-compose files (docker-compose config)", [dockerComposeTool], () => {
  it("run PostgreSQL, MinIO, the registry, two inference replicas of one model, Prometheus and Grafana", () => {
    const services = config("docker-compose.yml");
    expect(Object.keys(services).sort()).toEqual(
      ["grafana", "inference-1", "inference-2", "minio", "minio-init", "postgres", "prometheus", "registry"].sort(),
    );
    expect(services.registry?.command).toEqual(["registry"]);
    expect(services.registry?.environment).toMatchObject({
      DATABASE_URL: "postgres://mlpipe:mlpipe@postgres:5432/mlpipe",
      ARTIFACT_ROOT: "s3://mlpipe-artifacts",
      S3_ENDPOINT_URL: "http://minio:9000",
    });
    expect(services.registry?.depends_on).toEqual({
      postgres: { condition: "service_healthy" },
      "minio-init": { condition: "service_completed_successfully" },
    });
    for (const name of ["inference-1", "inference-2"]) {
      const s = services[name];
      expect(s?.command, name).toEqual(["serve"]);
      expect(s?.environment, name).toMatchObject({
        REGISTRY_URL: "http://registry:5000",
        MODEL_NAME: "iris-classifier",
        MODEL_STAGE: "Production",
      });
      expect(s?.read_only, name).toBe(true);
    }
    expect(targets(services.prometheus)).toEqual(
      expect.arrayContaining(["/etc/prometheus/prometheus.yml", "/etc/prometheus/mlpipe"]),
    );
    expect(targets(services.grafana)).toEqual(
      expect.arrayContaining(["/etc/grafana/provisioning", "/var/lib/grafana/dashboards/mlpipe"]),
    );
  });

  it("the local override swaps images for local stand-ins and leaves Grafana to a profile", () => {
    const base = config("docker-compose.yml");
    const local = config("docker-compose.yml", "docker-compose.local.yml");
    expect(local.postgres?.image).toBe("mlpipe-local/postgres:15");
    expect(local.minio?.image).toBe("mlpipe-local/s3rver:3");
    expect(local.prometheus?.image).toBe("mlpipe-local/prometheus:2");
    expect(local.grafana?.profiles).toEqual(["grafana"]);
    // Everything else is as in the real stack: same commands, same wiring, same mounts.
    for (const name of ["registry", "inference-1", "inference-2"]) {
      expect(local[name]?.command, name).toEqual(base[name]?.command);
      expect(local[name]?.depends_on, name).toEqual(base[name]?.depends_on);
    }
    expect(targets(local.prometheus).sort()).toEqual(targets(base.prometheus).sort());
  });
});
