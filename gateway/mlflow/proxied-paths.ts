/**
 * What a path of the MLflow artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/<path>`, or the
 * path of an `mlflow-artifacts:/<path>` URI) names, found through the services so that every
 * read and write goes through them (and whatever authorizes their calls):
 *
 * - a run's artifacts: `<...>/<run_id>/artifacts[/<file>]`, the layout of the run artifact URIs
 *   the tracking store makes (`<experiment location>/<run_id>/artifacts`), confirmed by the run's
 *   own artifact URI;
 * - a model version's registered copy: `registered-models/<name>/versions/<version>[/model.onnx]`,
 *   the directory `model-versions/get-download-uri` answers (the registry keeps one immutable copy
 *   of the version's ONNX file, downloaded with DownloadModelVersion).
 *
 * Anything else under the artifact root is not addressable on this surface (MLflow's proxy would
 * serve any path): files belong to a run or a version, so that the artifact index and the
 * registry stay the one record of what is stored.
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { commonErrors, mlflowErrors } from "../../core/errors/index.js";
import {
  GetRunRequestSchema,
  GetRunResponseSchema,
  type TrackingService,
} from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { ArtifactLocations } from "./artifact-locations.js";

/** The top directory of model versions' registered copies on the proxy. */
export const versionsRoot = "registered-models";

/** The file name of a version's registered copy (what DownloadModelVersion announces). */
export const versionFileName = "model.onnx";

/** What a proxy path names. */
export type ProxiedTarget =
  /** A file or directory of a run's artifacts ("" for the run's root). */
  | { readonly kind: "run"; readonly runId: string; readonly path: string }
  /** A model version's directory (file undefined) or its one file. */
  | { readonly kind: "version"; readonly name: string; readonly version: bigint; readonly file: string | undefined }
  /** Above both: the proxy root, or the versions' root. */
  | { readonly kind: "none" };

/** The proxy path of a version's directory, as `get-download-uri` answers it (after `mlflow-artifacts:/`). */
export function versionDirectory(name: string, version: bigint): string {
  return `${versionsRoot}/${name}/versions/${version}`;
}

const runIdSegment = /^[0-9a-f]{32}$/;

/** Resolves proxy paths through the tracking service (run paths) and by their shape (version paths). */
export function createProxiedPaths(
  tracking: ServiceImpl<typeof TrackingService>,
  locations: ArtifactLocations,
): (path: string, ctx: HandlerContext) => Promise<ProxiedTarget> {
  return async (path, ctx) => {
    const segments = path === "" ? [] : path.split("/");
    if (segments.some((s) => s === "" || s === "." || s === "..")) {
      throw commonErrors.invalidArgument(
        "path",
        `"${path}" must be a relative path without empty, "." or ".." segments`,
      );
    }
    for (let i = segments.length - 2; i >= 0; i--) {
      const runId = segments[i] ?? "";
      if (segments[i + 1] !== "artifacts" || !runIdSegment.test(runId)) continue;
      const { run } = create(GetRunResponseSchema, await tracking.getRun(create(GetRunRequestSchema, { runId }), ctx));
      const root = locations.proxiedPath(locations.shown(run?.info?.artifactUri ?? ""));
      const prefix = segments.slice(0, i + 2).join("/");
      if (root === prefix) return { kind: "run", runId, path: segments.slice(i + 2).join("/") };
    }
    if (segments[0] === versionsRoot) {
      if (segments.length === 1) return { kind: "none" };
      const [, name, word, version, file, ...rest] = segments;
      if (name !== undefined && word === "versions" && version !== undefined && /^[1-9]\d{0,18}$/.test(version)) {
        if (rest.length === 0) return { kind: "version", name, version: BigInt(version), file };
      }
    }
    if (segments.length === 0) return { kind: "none" };
    throw mlflowErrors.artifactPathUnknown(path);
  };
}
