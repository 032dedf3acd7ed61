/**
 * The behaviour every RegistryStore must have, as a vitest suite run against each database:
 * PGlite (sql-registry-store.test.ts) and a real PostgreSQL (sql-registry-store.int.test.ts).
 */
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryErrors } from "../../core/errors/registry-errors.js";
import {
  ModelSignatureSchema,
  ModelVersionStatus,
  RegistryEventType,
  Stage,
  TensorSpecSchema,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { registryEventsChannel } from "../../registry/registry-events-channel.js";
import type { CreateVersionInput, RegistryStore } from "../../registry/registry-store.js";
import { createSqlRegistryStore } from "../../registry/sql-registry-store.js";
import type { SqlClient } from "../../storage/sql/sql-client.js";

/** A migrated, empty database for one suite, and how to dispose of it. */
export interface StoreFixture {
  readonly client: SqlClient;
  dispose(): Promise<void>;
}

/** A READY version input (the store does not read artifacts; the service does). */
export function readyVersion(name: string, overrides: Partial<CreateVersionInput> = {}): CreateVersionInput {
  return {
    name,
    source: "runs:/abc/model.onnx",
    runId: "abc",
    description: "",
    tags: {},
    status: ModelVersionStatus.READY,
    statusMessage: "",
    artifactSize: 123,
    artifactSha256: "a".repeat(64),
    storageKey: `model-registry/${name}/${Math.random().toString(36).slice(2)}/model.onnx`,
    storageUri: "file:///tmp/x",
    signature: create(ModelSignatureSchema, {
      inputs: [create(TensorSpecSchema, { name: "features", isTensor: true, elementType: "float32" })],
    }),
    ...overrides,
  };
}

async function expectError(promise: Promise<unknown>, id: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ id });
}

/** Declares the store suite over databases made by `open`. */
export function describeRegistryStore(label: string, open: () => Promise<StoreFixture>): void {
  describe(`RegistryStore on ${label}`, () => {
    let fixture: StoreFixture;
    let store: RegistryStore;

    beforeAll(async () => {
      fixture = await open();
      store = createSqlRegistryStore(fixture.client);
    });
    afterAll(async () => {
      await fixture?.dispose();
    });

    it("creates, gets, renames, describes and deletes models; names are unique", async () => {
      const m = await store.createModel({ name: "iris", description: "d", tags: { team: "ml" } }, "alice");
      expect(m.name).toBe("iris");
      expect(m.tags).toEqual({ team: "ml" });
      await expectError(
        store.createModel({ name: "iris", description: "", tags: {} }, "bob"),
        "REGISTRY_MODEL_ALREADY_EXISTS",
      );
      await store.createModel({ name: "other", description: "", tags: {} }, "bob");
      await expectError(store.renameModel("iris", "other", "alice"), "REGISTRY_MODEL_ALREADY_EXISTS");
      const renamed = await store.renameModel("iris", "iris2", "alice");
      expect(renamed.name).toBe("iris2");
      await expectError(store.getModel("iris"), "REGISTRY_MODEL_NOT_FOUND");
      expect((await store.updateModelDescription("iris2", "new", "alice")).description).toBe("new");
      await store.setModelTag("iris2", "k", "v", "alice");
      expect((await store.getModel("iris2")).tags).toEqual({ team: "ml", k: "v" });
      await store.deleteModelTag("iris2", "k", "alice");
      await expectError(store.deleteModelTag("iris2", "k", "alice"), "REGISTRY_TAG_NOT_FOUND");
      const history = await store.listEvents("iris2", 100, "");
      expect(history.items.map((e) => [RegistryEventType[e.type], e.actor, e.key, e.fromValue, e.toValue])).toEqual([
        ["MODEL_CREATED", "alice", "", "", ""],
        ["MODEL_RENAMED", "alice", "", "", ""],
        ["MODEL_UPDATED", "alice", "description", "d", "new"],
        ["MODEL_TAG_SET", "alice", "k", "", "v"],
        ["MODEL_TAG_DELETED", "alice", "k", "v", ""],
      ]);
      expect([history.items[1]?.fromName, history.items[1]?.toName]).toEqual(["iris", "iris2"]);
      await store.deleteModel("iris2", "alice");
      await expectError(store.getModel("iris2"), "REGISTRY_MODEL_NOT_FOUND");
      await expectError(store.deleteModel("iris2", "alice"), "REGISTRY_MODEL_NOT_FOUND");
      await store.deleteModel("other", "alice");
    });

    it("numbers versions per model, never reusing a number, and keeps their fields", async () => {
      await store.createModel({ name: "numbered", description: "", tags: {} }, "a");
      const v1 = await store.createVersion(readyVersion("numbered", { tags: { t: "1" }, description: "first" }), "a");
      const v2 = await store.createVersion(readyVersion("numbered"), "b");
      expect([v1.version, v2.version]).toEqual([1n, 2n]);
      expect(v1.tags).toEqual({ t: "1" });
      expect(v1.description).toBe("first");
      expect(v1.currentStage).toBe(Stage.NONE);
      expect(v1.status).toBe(ModelVersionStatus.READY);
      expect(v1.createdBy).toBe("a");
      expect(v1.signature?.inputs[0]?.elementType).toBe("float32");
      await store.deleteVersion("numbered", 2n, "a");
      const v3 = await store.createVersion(readyVersion("numbered"), "a");
      expect(v3.version).toBe(3n);
      await expectError(store.getVersion("numbered", 2n), "REGISTRY_VERSION_NOT_FOUND");
      await expectError(store.createVersion(readyVersion("missing"), "a"), "REGISTRY_MODEL_NOT_FOUND");
      await store.setVersionTag("numbered", 1n, "k", "v", "a");
      expect((await store.getVersion("numbered", 1n)).tags).toEqual({ t: "1", k: "v" });
      await store.deleteVersionTag("numbered", 1n, "k", "a");
      await expectError(store.deleteVersionTag("numbered", 1n, "k", "a"), "REGISTRY_TAG_NOT_FOUND");
      expect((await store.updateVersionDescription("numbered", 1n, "x", "a")).description).toBe("x");
    });

    it("gives distinct numbers to concurrent creates", async () => {
      await store.createModel({ name: "concurrent-create", description: "", tags: {} }, "a");
      const versions = await Promise.all(
        Array.from({ length: 12 }, () => store.createVersion(readyVersion("concurrent-create"), "a")),
      );
      expect(versions.map((v) => v.version).sort((a, b) => Number(a - b))).toEqual(
        Array.from({ length: 12 }, (_, i) => BigInt(i + 1)),
      );
    });

    it("transitions stages, archiving existing versions, and reports latest versions", async () => {
      await store.createModel({ name: "staged", description: "", tags: {} }, "a");
      for (let i = 0; i < 3; i++) await store.createVersion(readyVersion("staged"), "a");
      await store.transitionStage("staged", 1n, Stage.PRODUCTION, false, "a");
      await store.transitionStage("staged", 2n, Stage.PRODUCTION, false, "a");
      expect((await store.getVersion("staged", 1n)).currentStage).toBe(Stage.PRODUCTION);
      const v3 = await store.transitionStage("staged", 3n, Stage.PRODUCTION, true, "carol");
      expect(v3.currentStage).toBe(Stage.PRODUCTION);
      expect((await store.getVersion("staged", 1n)).currentStage).toBe(Stage.ARCHIVED);
      expect((await store.getVersion("staged", 2n)).currentStage).toBe(Stage.ARCHIVED);
      const latest = await store.getLatestVersions("staged", [Stage.PRODUCTION, Stage.ARCHIVED, Stage.STAGING]);
      expect(latest.map((v) => [v.currentStage, v.version])).toEqual([
        [Stage.PRODUCTION, 3n],
        [Stage.ARCHIVED, 2n],
      ]);
      const failed = await store.createVersion(
        readyVersion("staged", { status: ModelVersionStatus.FAILED_REGISTRATION, statusMessage: "bad" }),
        "a",
      );
      await expectError(
        store.transitionStage("staged", failed.version, Stage.STAGING, false, "a"),
        "REGISTRY_VERSION_NOT_READY",
      );
      await expectError(store.setAlias("staged", "champion", failed.version, "a"), "REGISTRY_VERSION_NOT_READY");
      await expectError(store.transitionStage("staged", 99n, Stage.STAGING, false, "a"), "REGISTRY_VERSION_NOT_FOUND");
    });

    it("leaves exactly one version in Production after concurrent promotions", async () => {
      await store.createModel({ name: "race", description: "", tags: {} }, "a");
      const count = 10;
      for (let i = 0; i < count; i++) await store.createVersion(readyVersion("race"), "a");
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          Array.from({ length: count }, (_, i) =>
            store.transitionStage("race", BigInt(i + 1), Stage.PRODUCTION, true, `client-${i}`),
          ),
        );
        const production = await store.searchVersions({
          filter: "name = 'race' AND current_stage = 'Production'",
          maxResults: 100,
          orderBy: [],
          pageToken: "",
        });
        expect(production.items).toHaveLength(1);
      }
      // Replaying the event log gives the same single Production version, and never two at once.
      const events = await store.eventsAfter(await store.resolveWatchedModel("race", 0n), 0n, 10_000);
      const stages = new Map<bigint, Stage>();
      for (const e of events) {
        if (e.type === RegistryEventType.VERSION_CREATED) stages.set(e.version, Stage.NONE);
        if (e.type === RegistryEventType.STAGE_CHANGED) {
          expect(stages.get(e.version)).toBe(e.fromStage);
          stages.set(e.version, e.toStage);
          expect([...stages.values()].filter((s) => s === Stage.PRODUCTION).length).toBeLessThanOrEqual(1);
        }
      }
      expect([...stages.values()].filter((s) => s === Stage.PRODUCTION)).toHaveLength(1);
    });

    it("sets, moves and deletes aliases, and drops them with their version", async () => {
      await store.createModel({ name: "aliased", description: "", tags: {} }, "a");
      await store.createVersion(readyVersion("aliased"), "a");
      await store.createVersion(readyVersion("aliased"), "a");
      await store.setAlias("aliased", "champion", 1n, "a");
      await store.setAlias("aliased", "challenger", 2n, "a");
      expect((await store.getVersionByAlias("aliased", "champion")).version).toBe(1n);
      await store.setAlias("aliased", "champion", 2n, "a");
      const v2 = await store.getVersionByAlias("aliased", "champion");
      expect(v2.version).toBe(2n);
      expect(v2.aliases).toEqual(["challenger", "champion"]);
      expect((await store.getModel("aliased")).aliases).toEqual({ champion: 2n, challenger: 2n });
      await store.deleteAlias("aliased", "challenger", "a");
      await expectError(store.deleteAlias("aliased", "challenger", "a"), "REGISTRY_ALIAS_NOT_FOUND");
      await expectError(store.getVersionByAlias("aliased", "challenger"), "REGISTRY_ALIAS_NOT_FOUND");
      await expectError(store.setAlias("aliased", "x", 7n, "a"), "REGISTRY_VERSION_NOT_FOUND");
      await store.deleteVersion("aliased", 2n, "a");
      await expectError(store.getVersionByAlias("aliased", "champion"), "REGISTRY_ALIAS_NOT_FOUND");
      const events = await store.listEvents("aliased", 100, "");
      expect(events.items.map((e) => RegistryEventType[e.type])).toEqual([
        "MODEL_CREATED",
        "VERSION_CREATED",
        "VERSION_CREATED",
        "ALIAS_SET",
        "ALIAS_SET",
        "ALIAS_SET",
        "ALIAS_DELETED",
        "ALIAS_DELETED",
        "VERSION_DELETED",
      ]);
      const moved = events.items[5];
      expect([moved?.alias, moved?.fromVersion, moved?.toVersion, moved?.actor]).toEqual(["champion", 1n, 2n, "a"]);
    });

    it("pages the audit log with keyset tokens", async () => {
      await store.createModel({ name: "audited", description: "", tags: {} }, "a");
      for (let i = 0; i < 4; i++) await store.createVersion(readyVersion("audited"), `actor-${i}`);
      const first = await store.listEvents("audited", 2, "");
      expect(first.items).toHaveLength(2);
      const second = await store.listEvents("audited", 2, first.nextPageToken);
      const third = await store.listEvents("audited", 2, second.nextPageToken);
      expect(third.nextPageToken).toBe("");
      const all = [...first.items, ...second.items, ...third.items];
      expect(all.map((e) => e.actor)).toEqual(["a", "actor-0", "actor-1", "actor-2", "actor-3"]);
      await expectError(store.listEvents("audited", 2, "garbage"), "INVALID_PAGE_TOKEN");
    });

    it("searches models by name and tags, ordered, with keyset pages", async () => {
      for (const [name, team] of [
        ["search-a", "x"],
        ["search-b", "y"],
        ["search-c", "x"],
        ["search-d", "x"],
      ] as const) {
        await store.createModel({ name, description: "", tags: { team } }, "a");
      }
      const byTag = await store.searchModels({
        filter: "name LIKE 'search-%' AND tags.team = 'x'",
        maxResults: 2,
        orderBy: ["name DESC"],
        pageToken: "",
      });
      expect(byTag.items.map((m) => m.name)).toEqual(["search-d", "search-c"]);
      // A model inserted between pages does not shift the next page.
      await store.createModel({ name: "search-bb", description: "", tags: { team: "x" } }, "a");
      const next = await store.searchModels({
        filter: "name LIKE 'search-%' AND tags.team = 'x'",
        maxResults: 2,
        orderBy: ["name DESC"],
        pageToken: byTag.nextPageToken,
      });
      expect(next.items.map((m) => m.name)).toEqual(["search-bb", "search-a"]);
      expect(next.nextPageToken).toBe("");
      await expectError(
        store.searchModels({ filter: "name = 'x'", maxResults: 2, orderBy: [], pageToken: byTag.nextPageToken }),
        "INVALID_PAGE_TOKEN",
      );
      await expect(
        store.searchModels({ filter: "owner = 'x'", maxResults: 2, orderBy: [], pageToken: "" }),
      ).rejects.toMatchObject({ id: "INVALID_ARGUMENT", field: "filter" });
      await expect(
        store.searchModels({ filter: "", maxResults: 2, orderBy: ["size"], pageToken: "" }),
      ).rejects.toMatchObject({ id: "INVALID_ARGUMENT", field: "order_by" });
    });

    it("searches versions by model, stage, version and tags", async () => {
      await store.createModel({ name: "vsearch", description: "", tags: {} }, "a");
      for (let i = 0; i < 5; i++)
        await store.createVersion(readyVersion("vsearch", { tags: { even: String(i % 2 === 1) } }), "a");
      const page1 = await store.searchVersions({
        filter: "name = 'vsearch' AND version >= 2",
        maxResults: 3,
        orderBy: [],
        pageToken: "",
      });
      expect(page1.items.map((v) => v.version)).toEqual([5n, 4n, 3n]);
      const page2 = await store.searchVersions({
        filter: "name = 'vsearch' AND version >= 2",
        maxResults: 3,
        orderBy: [],
        pageToken: page1.nextPageToken,
      });
      expect(page2.items.map((v) => v.version)).toEqual([2n]);
      const tagged = await store.searchVersions({
        filter: "name = 'vsearch' AND tags.even = 'true'",
        maxResults: 10,
        orderBy: ["version ASC"],
        pageToken: "",
      });
      expect(tagged.items.map((v) => v.version)).toEqual([2n, 4n]);
    });

    it("reads a consistent watch state and events after a position", async () => {
      await store.createModel({ name: "watched", description: "", tags: {} }, "a");
      await store.createVersion(readyVersion("watched"), "a");
      await store.createVersion(readyVersion("watched"), "a");
      await store.transitionStage("watched", 2n, Stage.PRODUCTION, true, "a");
      await store.setAlias("watched", "champion", 2n, "a");
      const { modelId, state } = await store.getModelState("watched");
      expect(state.aliases).toEqual({ champion: 2n });
      expect(state.stages.map((s) => [s.stage, s.versions])).toEqual([
        [Stage.NONE, [1n]],
        [Stage.PRODUCTION, [2n]],
      ]);
      const all = await store.eventsAfter(modelId, 0n, 100);
      expect(all.at(-1)?.sequence).toBe(state.sequence);
      await store.renameModel("watched", "watched-renamed", "a");
      // A resume position keeps following the model through a rename.
      expect(await store.resolveWatchedModel("watched", state.sequence)).toBe(modelId);
      const after = await store.eventsAfter(modelId, state.sequence, 100);
      expect(after.map((e) => e.type)).toEqual([RegistryEventType.MODEL_RENAMED]);
      await expectError(store.resolveWatchedModel("nobody", 0n), "REGISTRY_MODEL_NOT_FOUND");
      await expect(store.resolveWatchedModel("watched-renamed", 1n << 40n)).rejects.toMatchObject({
        id: "INVALID_ARGUMENT",
        field: "after_sequence",
      });
      expect(registryErrors.modelNotFound.id).toBe("REGISTRY_MODEL_NOT_FOUND");
    });

    it("notifies listeners when a change commits, and not for a rolled-back one", async () => {
      const payloads: string[] = [];
      const unlisten = await fixture.client.listen(registryEventsChannel, (p) => payloads.push(p));
      try {
        await store.createModel({ name: "notified", description: "", tags: {} }, "a");
        const { modelId } = await store.getModelState("notified");
        await expectError(
          store.transitionStage("notified", 1n, Stage.STAGING, false, "a"),
          "REGISTRY_VERSION_NOT_FOUND",
        );
        await store.createVersion(readyVersion("notified"), "a");
        await expect.poll(() => payloads.filter((p) => p === modelId).length).toBe(2);
      } finally {
        await unlisten();
      }
    });
  });
}
