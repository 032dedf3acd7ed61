import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ModelStateSchema,
  type RegistryEvent,
  RegistryEventSchema,
  Stage,
  RegistryEventType as T,
} from "../../../gen/mlpipe/registry/v1/registry_pb.js";
import { applyEvent, describeEvent, snapshotAt, snapshotFromState, versionsByStage } from "./registry-timeline.js";

const events: RegistryEvent[] = [
  { time: 100n, type: T.MODEL_CREATED, modelName: "iris" },
  { time: 110n, type: T.VERSION_CREATED, version: 1n },
  { time: 120n, type: T.STAGE_CHANGED, version: 1n, fromStage: Stage.NONE, toStage: Stage.PRODUCTION },
  { time: 200n, type: T.VERSION_CREATED, version: 2n },
  { time: 210n, type: T.ALIAS_SET, alias: "champion", toVersion: 1n },
  { time: 300n, type: T.STAGE_CHANGED, version: 2n, fromStage: Stage.NONE, toStage: Stage.PRODUCTION },
  { time: 300n, type: T.STAGE_CHANGED, version: 1n, fromStage: Stage.PRODUCTION, toStage: Stage.ARCHIVED },
  { time: 310n, type: T.ALIAS_SET, alias: "champion", fromVersion: 1n, toVersion: 2n },
  { time: 400n, type: T.MODEL_RENAMED, fromName: "iris", toName: "iris-classifier" },
  { time: 500n, type: T.VERSION_DELETED, version: 1n, fromStage: Stage.ARCHIVED },
].map((e, i) => create(RegistryEventSchema, { sequence: BigInt(i + 1), modelName: "iris", ...e }));

describe("snapshotAt", () => {
  it("answers what was in each stage and behind each alias at a moment", () => {
    const before = snapshotAt(events, 250n);
    expect(versionsByStage(before).get(Stage.PRODUCTION)).toEqual([1n]);
    expect(versionsByStage(before).get(Stage.NONE)).toEqual([2n]);
    expect(before.aliases.get("champion")).toBe(1n);
    const after = snapshotAt(events, 350n);
    expect(versionsByStage(after).get(Stage.PRODUCTION)).toEqual([2n]);
    expect(versionsByStage(after).get(Stage.ARCHIVED)).toEqual([1n]);
    expect(after.aliases.get("champion")).toBe(2n);
    expect(after.exists).toBe(true);
  });

  it("follows renames and deletions, and knows nothing before the model existed", () => {
    const last = snapshotAt(events, 1_000n);
    expect(last.name).toBe("iris-classifier");
    expect(versionsByStage(last).get(Stage.ARCHIVED)).toBeUndefined();
    expect(snapshotAt(events, 50n)).toMatchObject({ exists: false, versions: new Map() });
  });

  it("keeps a watched model current: the stream's state, then its events", () => {
    const state = create(ModelStateSchema, {
      name: "iris",
      sequence: 3n,
      stages: [
        { stage: Stage.PRODUCTION, versions: [1n] },
        { stage: Stage.NONE, versions: [2n] },
      ],
      aliases: { champion: 1n },
    });
    const [, , , , , promote, archive] = events;
    if (promote === undefined || archive === undefined) throw new Error("events missing");
    const live = applyEvent(applyEvent(snapshotFromState(state), promote), archive);
    expect(versionsByStage(live)).toEqual(
      new Map([
        [Stage.ARCHIVED, [1n]],
        [Stage.PRODUCTION, [2n]],
      ]),
    );
    expect(live.aliases.get("champion")).toBe(1n);
  });
});

describe("describeEvent", () => {
  it("says what happened in words", () => {
    expect(events.map(describeEvent)).toEqual([
      "model iris created",
      "version 1 registered",
      "version 1: None → Production",
      "version 2 registered",
      "alias @champion → version 1",
      "version 2: None → Production",
      "version 1: Production → Archived",
      "alias @champion moved from version 1 to 2",
      "renamed iris → iris-classifier",
      "version 1 deleted (was in Archived)",
    ]);
  });
});
