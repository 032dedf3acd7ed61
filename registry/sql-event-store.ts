/**
 * The audit log and watch over SQL: history pages, a model's state with the sequence of its last
 * event (read consistently), where a watch resumes, events after a position, and the latest
 * sequences the watch hub polls. Part of the registry store (sql-registry-store.ts).
 */
import { create } from "@bufbuild/protobuf";
import { commonErrors } from "../core/errors/common-errors.js";
import { ModelStateSchema, type Stage, StageVersionsSchema } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { decodePageToken, encodePageToken } from "../storage/query/page-token.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import type { RegistryEventStore } from "./registry-store.js";
import { readEvents } from "./sql-registry-events.js";
import { modelRow, placeholders } from "./sql-registry-rows.js";
import { stageFromName } from "./stage-names.js";

/** The audit-log aggregate of the registry store, over a migrated database. */
export function createSqlEventStore(db: SqlClient): RegistryEventStore {
  return {
    async listEvents(name, maxResults, pageToken) {
      const model = await modelRow(db, name);
      const queryKey = JSON.stringify({ what: "registry_events", model: model.model_id });
      const after = pageToken === "" ? "0" : (decodePageToken(pageToken, queryKey, ["bigint"])[0] ?? "0");
      const events = await readEvents(db, model.model_id, after, maxResults + 1);
      const page = events.slice(0, maxResults);
      const last = page.at(-1);
      return {
        items: page,
        nextPageToken:
          events.length > maxResults && last !== undefined ? encodePageToken(queryKey, [last.sequence.toString()]) : "",
      };
    },

    getModelState(name) {
      return db.transaction(async (tx) => {
        // FOR SHARE waits for a change of the model in progress and keeps new ones out until this
        // transaction ends, so the state below and the last sequence agree.
        const model = await modelRow(tx, name, "share");
        const versions = await tx.query<{ current_stage: string; version: string }>(
          "SELECT current_stage, version FROM model_versions WHERE model_id = $1 AND status = 'READY' ORDER BY version",
          [model.model_id],
        );
        const aliases = await tx.query<{ alias: string; version: string }>(
          "SELECT alias, version FROM registered_model_aliases WHERE model_id = $1 ORDER BY alias",
          [model.model_id],
        );
        const tags = await tx.query<{ key: string; value: string }>(
          "SELECT key, value FROM registered_model_tags WHERE model_id = $1 ORDER BY key",
          [model.model_id],
        );
        const last = await tx.query<{ sequence: string | null }>(
          "SELECT MAX(sequence) AS sequence FROM registry_events WHERE model_id = $1",
          [model.model_id],
        );
        const byStage = new Map<Stage, bigint[]>();
        for (const r of versions.rows) {
          const stage = stageFromName(r.current_stage);
          byStage.set(stage, [...(byStage.get(stage) ?? []), BigInt(r.version)]);
        }
        const state = create(ModelStateSchema, {
          name: model.name,
          sequence: BigInt(last.rows[0]?.sequence ?? 0),
          stages: [...byStage.entries()]
            .sort(([a], [b]) => a - b)
            .map(([stage, list]) => create(StageVersionsSchema, { stage, versions: list })),
          aliases: Object.fromEntries(aliases.rows.map((a) => [a.alias, BigInt(a.version)])),
          tags: Object.fromEntries(tags.rows.map((t) => [t.key, t.value])),
        });
        return { modelId: model.model_id, state };
      });
    },

    async resolveWatchedModel(name, afterSequence) {
      if (afterSequence > 0n) {
        const found = await db.query<{ model_id: string }>(
          `SELECT e.model_id FROM registry_events e
            WHERE e.sequence = $1
              AND EXISTS (SELECT 1 FROM registry_events x
                           WHERE x.model_id = e.model_id AND (x.model_name = $2 OR x.to_name = $2))`,
          [afterSequence, name],
        );
        const modelId = found.rows[0]?.model_id;
        if (modelId !== undefined) return modelId;
        const last = await db.query<{ sequence: string | null }>(
          "SELECT MAX(sequence) AS sequence FROM registry_events",
        );
        if (afterSequence > BigInt(last.rows[0]?.sequence ?? 0)) {
          throw commonErrors.invalidArgument(
            "after_sequence",
            "is ahead of the event log; use a sequence the server sent",
          );
        }
      }
      return (await modelRow(db, name)).model_id;
    },

    eventsAfter(modelId, afterSequence, limit) {
      return readEvents(db, modelId, afterSequence, limit);
    },

    async latestSequences(modelIds) {
      if (modelIds.length === 0) return new Map();
      const params: unknown[] = [];
      const rows = await db.query<{ model_id: string; sequence: string }>(
        `SELECT model_id, MAX(sequence) AS sequence FROM registry_events
          WHERE model_id IN (${placeholders(modelIds, params)}) GROUP BY model_id`,
        params,
      );
      return new Map(rows.rows.map((r) => [r.model_id, BigInt(r.sequence)]));
    },
  };
}
