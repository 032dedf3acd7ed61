import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { Access } from "../gen/mlpipe/auth/v1/policy_pb.js";
import { TrackingService } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { PolicyPathError } from "./field-path.js";
import { compilePolicy, compileServicePolicies } from "./method-policy.js";

const genMlpipe = join(import.meta.dirname, "..", "gen", "mlpipe");

/** Every service descriptor generated from proto/mlpipe, found by walking gen/ (not a list to forget to extend). */
async function generatedServices(): Promise<DescService[]> {
  const files = readdirSync(genMlpipe, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith("_pb.ts"));
  const services: DescService[] = [];
  for (const file of files) {
    const module: Record<string, unknown> = await import(/* @vite-ignore */ pathToFileURL(join(genMlpipe, file)).href);
    for (const value of Object.values(module)) {
      if (typeof value === "object" && value !== null && "kind" in value && value.kind === "service") {
        services.push(value as DescService);
      }
    }
  }
  return services;
}

describe("method policies", () => {
  it("exist and compile for every method of every generated mlpipe service", async () => {
    const services = await generatedServices();
    expect(services.map((s) => s.typeName).sort()).toEqual([
      "mlpipe.auth.v1.AuthService",
      "mlpipe.inference.v1.InferenceService",
      "mlpipe.registry.v1.RegistryService",
      "mlpipe.tracking.v1.TrackingService",
    ]);
    for (const service of services) {
      const policies = compileServicePolicies(service);
      for (const method of service.methods) expect(policies.get(method.localName)?.access).not.toBe(Access.UNSPECIFIED);
    }
  });

  it("resolves run ids, repeated ids and stream headers to their fields", () => {
    const byName = (name: string) => {
      const method = TrackingService.methods.find((m) => m.name === name);
      if (method === undefined) throw new Error(name);
      return compilePolicy(method);
    };
    expect(byName("UploadArtifact").resource?.path?.path).toBe("header.run_id");
    expect(byName("SearchRuns").resource?.path?.path).toBe("experiment_ids");
    expect(byName("CreateRun").resource?.defaultId).toBe("0");
    expect(byName("SearchExperiments").responseFilter?.filter.path).toBe("experiments.experiment_id");
  });

  it("refuses a method without a policy (grpc.health.v1 has none)", () => {
    const check = Health.methods[0];
    expect(check).toBeDefined();
    if (check !== undefined) expect(() => compilePolicy(check)).toThrow(PolicyPathError);
  });
});
