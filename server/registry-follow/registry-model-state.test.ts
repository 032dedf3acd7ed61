import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ModelStateSchema,
  RegistryEventSchema,
  RegistryEventType,
  Stage,
  StageVersionsSchema,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { createRegistryModelState, stageFromName, stageName } from "./registry-model-state.js";

function event(sequence: bigint, init: MessageInitShape<typeof RegistryEventSchema>) {
  return create(RegistryEventSchema, { ...init, sequence });
}

function started() {
  const state = createRegistryModelState();
  state.reset(
    create(ModelStateSchema, {
      name: "iris",
      sequence: 10n,
      stages: [
        create(StageVersionsSchema, { stage: Stage.PRODUCTION, versions: [1n, 2n] }),
        create(StageVersionsSchema, { stage: Stage.STAGING, versions: [3n] }),
      ],
      aliases: { champion: 2n },
      tags: { team: "a" },
    }),
  );
  return state;
}

describe("registry model state", () => {
  it("names stages in MLflow's spelling and parses them in any case", () => {
    expect(stageName(Stage.PRODUCTION)).toBe("Production");
    expect(stageFromName("production")).toBe(Stage.PRODUCTION);
    expect(stageFromName(" STAGING ")).toBe(Stage.STAGING);
    expect(stageFromName("champion")).toBeUndefined();
  });

  it("resolves a stage to its highest version and an alias to its version", () => {
    const state = started();
    expect(state.sequence).toBe(10n);
    expect(state.target("Production")).toBe(2n);
    expect(state.target("staging")).toBe(3n);
    expect(state.target("champion")).toBe(2n);
    expect(state.target("Archived")).toBeUndefined();
    expect(state.target("challenger")).toBeUndefined();
    expect(state.labels(2n)).toEqual({ stage: "Production", aliases: ["champion"] });
    expect(state.labels(9n)).toEqual({ stage: "", aliases: [] });
  });

  it("follows stage, alias and version events and ignores replayed ones", () => {
    const state = started();
    state.apply(
      event(11n, {
        type: RegistryEventType.STAGE_CHANGED,
        version: 3n,
        fromStage: Stage.STAGING,
        toStage: Stage.PRODUCTION,
      }),
    );
    expect(state.target("Production")).toBe(3n);
    state.apply(event(12n, { type: RegistryEventType.ALIAS_SET, alias: "champion", fromVersion: 2n, toVersion: 3n }));
    expect(state.target("champion")).toBe(3n);
    // A replay of an older event (a resumed stream) changes nothing.
    state.apply(event(11n, { type: RegistryEventType.STAGE_CHANGED, version: 3n, toStage: Stage.ARCHIVED }));
    expect(state.target("Production")).toBe(3n);
    state.apply(event(13n, { type: RegistryEventType.VERSION_DELETED, version: 3n, fromStage: Stage.PRODUCTION }));
    expect(state.target("Production")).toBe(2n);
    expect(state.target("champion")).toBeUndefined();
    state.apply(event(14n, { type: RegistryEventType.VERSION_CREATED, version: 4n, toStage: Stage.NONE }));
    expect(state.target("None")).toBe(4n);
    state.apply(event(15n, { type: RegistryEventType.ALIAS_SET, alias: "b", toVersion: 4n }));
    state.apply(event(16n, { type: RegistryEventType.ALIAS_DELETED, alias: "b", fromVersion: 4n }));
    expect(state.target("b")).toBeUndefined();
    state.apply(event(17n, { type: RegistryEventType.MODEL_TAG_SET, key: "k", toValue: "v" }));
    expect(state.sequence).toBe(17n);
    state.advance(20n);
    expect(state.sequence).toBe(20n);
    state.advance(5n);
    expect(state.sequence).toBe(20n);
  });

  it("keeps the model's tags from the state and its tag events", () => {
    const state = started();
    expect(state.tag("team")).toBe("a");
    state.apply(event(11n, { type: RegistryEventType.MODEL_TAG_SET, key: "mlpipe.traffic_split", toValue: "a=100" }));
    state.apply(event(12n, { type: RegistryEventType.MODEL_TAG_DELETED, key: "team", fromValue: "a" }));
    expect(state.tag("mlpipe.traffic_split")).toBe("a=100");
    expect(state.tag("team")).toBeUndefined();
  });

  it("forgets everything, the resume position included, when the model is deleted", () => {
    const state = started();
    state.apply(event(11n, { type: RegistryEventType.MODEL_DELETED }));
    expect(state.target("Production")).toBeUndefined();
    expect(state.target("champion")).toBeUndefined();
    expect(state.sequence).toBe(0n);
    expect(state.generation).toBe(1);
  });
});
