/**
 * The registry's audit log in SQL (`registry_events`): appending an event with the notification
 * that wakes watchers on every replica, and reading a model's events in sequence order.
 */
import { create } from "@bufbuild/protobuf";
import { type RegistryEvent, RegistryEventSchema } from "../gen/mlpipe/registry/v1/registry_pb.js";
import type { SqlQueryable } from "../storage/sql/sql-client.js";
import { registryEventsChannel } from "./registry-events-channel.js";
import { type EventTypeName, eventTypeFromName, type StageName, stageFromName } from "./stage-names.js";

/** What an event records besides model, time and actor. */
export interface EventFields {
  readonly type: EventTypeName;
  readonly version?: bigint;
  readonly fromStage?: StageName;
  readonly toStage?: StageName;
  readonly alias?: string;
  readonly fromVersion?: bigint;
  readonly toVersion?: bigint;
  readonly fromName?: string;
  readonly toName?: string;
  readonly key?: string;
  readonly fromValue?: string;
  readonly toValue?: string;
}

interface EventRow {
  sequence: string;
  model_id: string;
  time: string;
  actor: string;
  model_name: string;
  type: string;
  version: string;
  from_stage: string;
  to_stage: string;
  alias: string;
  from_version: string;
  to_version: string;
  from_name: string;
  to_name: string;
  key: string;
  from_value: string;
  to_value: string;
}

/** Appends an audit event and queues the notification PostgreSQL sends when the transaction commits. */
export async function recordEvent(
  tx: SqlQueryable,
  modelId: string,
  modelName: string,
  actor: string,
  e: EventFields,
): Promise<void> {
  await tx.query(
    `INSERT INTO registry_events (model_id, time, actor, model_name, type, version, from_stage, to_stage, alias,
       from_version, to_version, from_name, to_name, key, from_value, to_value)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      modelId,
      Date.now(),
      actor,
      modelName,
      e.type,
      e.version ?? 0n,
      e.fromStage ?? "",
      e.toStage ?? "",
      e.alias ?? "",
      e.fromVersion ?? 0n,
      e.toVersion ?? 0n,
      e.fromName ?? "",
      e.toName ?? "",
      e.key ?? "",
      e.fromValue ?? "",
      e.toValue ?? "",
    ],
  );
  // Notifications with the same payload in one transaction are folded into one by PostgreSQL.
  await tx.query("SELECT pg_notify($1, $2)", [registryEventsChannel, modelId]);
}

/**
 * Up to `limit` events of a model with sequence > `afterSequence`, in sequence order: what the
 * audit history pages and watch streams both read.
 */
export async function readEvents(
  db: SqlQueryable,
  modelId: string,
  afterSequence: bigint | string,
  limit: number,
): Promise<RegistryEvent[]> {
  const rows = await db.query<EventRow>(
    "SELECT * FROM registry_events WHERE model_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
    [modelId, afterSequence, limit],
  );
  return rows.rows.map(eventFromRow);
}

function eventFromRow(r: EventRow): RegistryEvent {
  return create(RegistryEventSchema, {
    sequence: BigInt(r.sequence),
    time: BigInt(r.time),
    actor: r.actor,
    modelName: r.model_name,
    type: eventTypeFromName(r.type),
    version: BigInt(r.version),
    fromStage: stageFromName(r.from_stage),
    toStage: stageFromName(r.to_stage),
    alias: r.alias,
    fromVersion: BigInt(r.from_version),
    toVersion: BigInt(r.to_version),
    fromName: r.from_name,
    toName: r.to_name,
    key: r.key,
    fromValue: r.from_value,
    toValue: r.to_value,
  });
}
