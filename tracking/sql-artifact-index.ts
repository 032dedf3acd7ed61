/**
 * The artifact index over SQL: which files each run's artifacts hold, with size and SHA-256 (the
 * bytes live in the blob store). Part of the tracking store (sql-tracking-store.ts); also what
 * answers other domains' RunArtifactLookup (run-artifact-lookup.ts).
 */
import { create } from "@bufbuild/protobuf";
import { FileInfoSchema } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import { lockActiveRun, requireRun } from "./sql-run-rows.js";
import type { ArtifactIndex } from "./tracking-store.js";

/** The artifact-index aggregate of the tracking store, over a migrated database. */
export function createSqlArtifactIndex(sql: SqlClient): ArtifactIndex {
  return {
    async recordArtifact(runId, file) {
      await sql.transaction(async (tx) => {
        await lockActiveRun(tx, runId, "key share");
        await tx.query(
          `INSERT INTO run_artifacts (run_id, path, file_size, sha256, updated_time) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (run_id, path)
           DO UPDATE SET file_size = EXCLUDED.file_size, sha256 = EXCLUDED.sha256, updated_time = EXCLUDED.updated_time`,
          [runId, file.path, file.size, file.sha256, Date.now()],
        );
      });
    },

    async getArtifact(runId, path) {
      const { rows } = await sql.query<{ file_size: string; sha256: string }>(
        "SELECT file_size, sha256 FROM run_artifacts WHERE run_id = $1 AND path = $2",
        [runId, path],
      );
      const row = rows[0];
      if (row === undefined) {
        await requireRun(sql, runId);
        return undefined;
      }
      return create(FileInfoSchema, { path, isDir: false, fileSize: BigInt(row.file_size), sha256: row.sha256 });
    },

    async listArtifacts(runId, dir) {
      const prefix = dir === "" || dir.endsWith("/") ? dir : `${dir}/`;
      // Each file under the prefix is a direct child, or stands for the directory of its first
      // segment below the prefix. starts_with() rather than LIKE: paths may contain % and _.
      const { rows } = await sql.query<{
        path: string;
        is_dir: boolean;
        file_size: string | null;
        sha256: string | null;
      }>(
        `SELECT DISTINCT ON (path, is_dir) path, is_dir,
                CASE WHEN is_dir THEN NULL ELSE file_size END AS file_size,
                CASE WHEN is_dir THEN NULL ELSE sha256 END AS sha256
         FROM (
           SELECT CASE WHEN strpos(rest, '/') > 0 THEN $2 || split_part(rest, '/', 1) ELSE path END AS path,
                  strpos(rest, '/') > 0 AS is_dir, file_size, sha256
           FROM (
             SELECT path, substr(path, length($2) + 1) AS rest, file_size, sha256
             FROM run_artifacts WHERE run_id = $1 AND starts_with(path, $2)
           ) AS below
         ) AS children
         ORDER BY path, is_dir`,
        [runId, prefix],
      );
      if (rows.length === 0) await requireRun(sql, runId);
      return rows.map((r) =>
        create(FileInfoSchema, {
          path: r.path,
          isDir: r.is_dir,
          fileSize: r.file_size === null ? 0n : BigInt(r.file_size),
          sha256: r.sha256 ?? "",
        }),
      );
    },

    async findRunArtifact(runId, path) {
      const { rows } = await sql.query<{ artifact_uri: string; file_size: string | null; sha256: string | null }>(
        `SELECT r.artifact_uri, a.file_size, a.sha256
           FROM runs r LEFT JOIN run_artifacts a ON a.run_id = r.run_id AND a.path = $2
          WHERE r.run_id = $1`,
        [runId, path],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        artifactUri: row.artifact_uri,
        file:
          row.file_size === null || row.sha256 === null
            ? undefined
            : { size: Number(row.file_size), sha256: row.sha256 },
      };
    },
  };
}
