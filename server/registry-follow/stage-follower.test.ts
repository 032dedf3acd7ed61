/**
 * The stage follower's scheduling over a stand-in model manager (the real one needs workers and
 * ONNX files; gateway/inference/inference-registry.int.test.ts runs the follower over the real parts).
 */
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { inferenceErrors } from "../../core/errors/index.js";
import { createLogger } from "../../core/logger.js";
import {
  ModelStateSchema,
  RegistryEventSchema,
  RegistryEventType,
  Stage,
  StageVersionsSchema,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import type { ModelArtifact, ModelLoader } from "../models/model-loader.js";
import type { LoadedModel, ModelManager } from "../models/model-manager.js";
import { createRegistryModelState, type RegistryModelState } from "./registry-model-state.js";
import { createStageFollower } from "./stage-follower.js";

const logger = createLogger({ level: "silent" });

/** Just enough of a manager: swap resolves the loader and serves it. */
function standInManager(): ModelManager & { readonly swaps: string[] } {
  let served: LoadedModel | undefined;
  const swaps: string[] = [];
  // The follower reads only `artifact` of a loaded model; the rest (session key, signature,
  // batcher) belongs to the real manager.
  const model = (artifact: ModelArtifact): LoadedModel => ({ artifact }) as unknown as LoadedModel;
  return {
    swaps,
    name: "iris",
    follows: "Production",
    lastFailure: undefined,
    queueDepths: () => [],
    get served() {
      return served;
    },
    loaded: () => (served === undefined ? [] : [served]),
    resolve: () => {
      throw new Error("unused");
    },
    load: () => Promise.reject(new Error("unused")),
    async swap(loader: ModelLoader) {
      const artifact = await loader.resolve();
      swaps.push(artifact.version);
      served = model(artifact);
      return served;
    },
    relabel(version, labels) {
      if (served?.artifact.version === version) served = model({ ...served.artifact, ...labels });
    },
    close: () => Promise.resolve(),
  };
}

function inProduction(state: RegistryModelState, sequence: bigint, ...versions: bigint[]): void {
  state.reset(
    create(ModelStateSchema, {
      name: "iris",
      sequence,
      stages: [create(StageVersionsSchema, { stage: Stage.PRODUCTION, versions })],
    }),
  );
}

/** Waits for `probe` (the test timeout bounds it). */
async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((r) => setTimeout(r, 1));
}

function setup(failing: (version: bigint) => boolean, backoff = { initialMs: 1, maxMs: 2 }) {
  const manager = standInManager();
  const state = createRegistryModelState();
  const served: [string, string | undefined][] = [];
  const attempts: bigint[] = [];
  const follower = createStageFollower({
    manager,
    state,
    name: "iris",
    spec: "Production",
    logger,
    backoff,
    loaderFor: (version, labels) => ({
      description: `v${version}`,
      async resolve() {
        attempts.push(version);
        if (failing(version)) throw inferenceErrors.registryUnavailable("http://registry");
        return { name: "iris", version: String(version), ...labels, source: `models:/iris/${version}`, path: "/x" };
      },
    }),
    onServed: (model, previous) => served.push([model.artifact.version, previous]),
  });
  return { manager, state, follower, served, attempts };
}

describe("stage follower", () => {
  it("swaps to whatever version the stage names, as it moves", async () => {
    const { manager, state, follower, served } = setup(() => false);
    inProduction(state, 1n, 1n);
    follower.changed();
    await until(() => manager.served?.artifact.version === "1");
    expect(manager.served?.artifact.stage).toBe("Production");
    state.apply(
      create(RegistryEventSchema, {
        sequence: 2n,
        type: RegistryEventType.STAGE_CHANGED,
        version: 2n,
        toStage: Stage.PRODUCTION,
      }),
    );
    follower.changed();
    await until(() => manager.served?.artifact.version === "2");
    expect(served).toEqual([
      ["1", undefined],
      ["2", "1"],
    ]);
    await follower.close();
  });

  it("keeps the served version when a load fails, and retries until it succeeds", async () => {
    let failures = 3;
    const { manager, state, follower, attempts } = setup((v) => v === 2n && failures-- > 0);
    inProduction(state, 1n, 1n);
    follower.changed();
    await until(() => manager.served?.artifact.version === "1");
    inProduction(state, 2n, 2n);
    follower.changed();
    await until(() => manager.served?.artifact.version === "2");
    expect(attempts.filter((v) => v === 2n)).toHaveLength(4);
    expect(manager.swaps).toEqual(["1", "2"]);
    await follower.close();
  });

  it("stops waiting to retry a failed version as soon as the stage moves on", async () => {
    const { manager, state, follower } = setup((v) => v === 2n, { initialMs: 3_600_000, maxMs: 3_600_000 });
    inProduction(state, 1n, 1n);
    follower.changed();
    await until(() => manager.served?.artifact.version === "1");
    inProduction(state, 2n, 2n);
    follower.changed();
    inProduction(state, 3n, 3n);
    follower.changed();
    await until(() => manager.served?.artifact.version === "3");
    await follower.close();
  });

  it("keeps the followed stage on the served version while the next one loads, then moves it", async () => {
    let release: (() => void) | undefined;
    const loading = new Promise<void>((r) => {
      release = r;
    });
    const { manager, state, follower } = setup(() => false);
    inProduction(state, 1n, 1n);
    follower.changed();
    await until(() => manager.served?.artifact.version === "1");
    const swap = manager.swap.bind(manager);
    manager.swap = async (loader) => {
      await loading;
      return swap(loader);
    };
    // Version 2 takes Production; version 1 leaves it (archive_existing_versions).
    inProduction(state, 2n, 2n);
    follower.changed();
    // Requests pinning "Production" still find a version: the one every other request gets.
    expect(manager.served?.artifact).toMatchObject({ version: "1", stage: "Production" });
    release?.();
    await until(() => manager.served?.artifact.version === "2");
    expect(manager.served?.artifact.stage).toBe("Production");
  });

  it("keeps serving when the stage becomes empty, and relabels the served version", async () => {
    const { manager, state, follower } = setup(() => false);
    inProduction(state, 1n, 1n);
    follower.changed();
    await until(() => manager.served?.artifact.version === "1");
    state.apply(
      create(RegistryEventSchema, {
        sequence: 2n,
        type: RegistryEventType.STAGE_CHANGED,
        version: 1n,
        toStage: Stage.ARCHIVED,
      }),
    );
    follower.changed();
    expect(manager.served?.artifact).toMatchObject({ version: "1", stage: "Archived" });
    expect(manager.swaps).toEqual(["1"]);
    await follower.close();
  });

  it("reloads a version number once the model was deleted and registered again", async () => {
    const { manager, state, follower } = setup(() => false);
    inProduction(state, 1n, 1n);
    follower.changed();
    await until(() => manager.served?.artifact.version === "1");
    state.apply(create(RegistryEventSchema, { sequence: 2n, type: RegistryEventType.MODEL_DELETED }));
    follower.changed();
    inProduction(state, 5n, 1n);
    follower.changed();
    await until(() => manager.swaps.length === 2);
    expect(manager.swaps).toEqual(["1", "1"]);
    await follower.close();
  });

  it("closes while a retry waits", async () => {
    const { state, follower, attempts } = setup(() => true, { initialMs: 3_600_000, maxMs: 3_600_000 });
    inProduction(state, 1n, 1n);
    follower.changed();
    await until(() => attempts.length === 1);
    await follower.close();
  });
});
