/**
 * MLflow's artifact proxy (`mlflow server --serve-artifacts`): `PUT` and `GET
 * /api/2.0/mlflow-artifacts/artifacts/<path>` upload and download one file, `GET
 * /api/2.0/mlflow-artifacts/artifacts?path=<dir>` lists a directory (base names, as MLflow's
 * proxy lists them). Paths are those of the `mlflow-artifacts:/` URIs this surface shows
 * (proxied-paths.ts says what they name). Files stream both ways in chunks through the tracking
 * service's UploadArtifact / DownloadArtifact (which index each file's size and SHA-256) and the
 * registry's DownloadModelVersion: memory stays bounded whatever the file size, and a client
 * without credentials for the artifact store logs and downloads artifacts through the server.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { commonErrors, mlflowErrors } from "../../core/errors/index.js";
import {
  DownloadModelVersionRequestSchema,
  GetModelVersionRequestSchema,
  GetModelVersionResponseSchema,
  type RegistryService,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import {
  DownloadArtifactRequestSchema,
  ListArtifactsRequestSchema,
  ListArtifactsResponseSchema,
  TrackingService,
  UploadArtifactRequestSchema,
} from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { HttpRequest, HttpResponse } from "../http/http-route.js";
import { requestPath } from "../http/http-route.js";
import { sendJson } from "../protocol-json/json-response.js";
import type { JsonHandler, JsonRouteTable } from "../protocol-json/json-router.js";
import type { ArtifactLocations } from "./artifact-locations.js";
import { callingMethod, mlflowHandlerContext } from "./mlflow-call.js";
import { queryParams, stringField } from "./mlflow-params.js";
import { createProxiedPaths, type ProxiedTarget, versionFileName } from "./proxied-paths.js";
import { compact, fileInfoJson, int64Json, type JsonObject } from "./tracking-json.js";

/** Where the artifact proxy's routes start. */
export const artifactsPath = "/api/2.0/mlflow-artifacts/artifacts";

/** What the artifact proxy needs. */
export interface MlflowArtifactRoutesOptions {
  readonly tracking: ServiceImpl<typeof TrackingService>;
  readonly registry: ServiceImpl<typeof RegistryService>;
  readonly locations: ArtifactLocations;
}

/** Content types of the files MLflow clients read as text; anything else is a download. */
const textTypes: Readonly<Record<string, string>> = {
  json: "application/json",
  txt: "text/plain; charset=utf-8",
  log: "text/plain; charset=utf-8",
  yaml: "text/plain; charset=utf-8",
  yml: "text/plain; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  MLmodel: "text/plain; charset=utf-8",
};

function contentTypeOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const extension = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : name;
  return textTypes[extension] ?? "application/octet-stream";
}

/** The path after `/api/2.0/mlflow-artifacts/artifacts/`, percent-decoded (as Flask decodes it). */
function pathOf(req: HttpRequest): string {
  const raw = requestPath(req).slice(artifactsPath.length + 1);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw commonErrors.invalidArgument("path", "is not a valid percent-encoded path");
  }
}

/** The artifact proxy's routes: the listing at {@link artifactsPath}, files below it. */
export function mlflowArtifactRoutes(options: MlflowArtifactRoutesOptions): JsonRouteTable {
  const { tracking, registry, locations } = options;
  const resolve = createProxiedPaths(tracking, locations);

  /** Runs `handle` with a context for `method`, aborted once the request is answered. */
  const withContext = (
    method: (typeof TrackingService.method)[keyof typeof TrackingService.method],
    handle: (req: HttpRequest, res: HttpResponse, ctx: HandlerContext) => Promise<void>,
  ): JsonHandler =>
    callingMethod(method, async (req, res) => {
      const ctx = mlflowHandlerContext(req, res, method);
      try {
        await handle(req, res, ctx);
      } finally {
        ctx.abort();
      }
    });

  /** The entries of a directory, with base names; [] for a file or a path that names nothing. */
  const list = async (target: ProxiedTarget, ctx: HandlerContext): Promise<JsonObject[]> => {
    if (target.kind === "run") {
      const { files } = create(
        ListArtifactsResponseSchema,
        await tracking.listArtifacts(create(ListArtifactsRequestSchema, target), ctx),
      );
      return files.map((f) => fileInfoJson(f, f.path.slice(f.path.lastIndexOf("/") + 1)));
    }
    if (target.kind === "version" && target.file === undefined) {
      const { modelVersion } = create(
        GetModelVersionResponseSchema,
        await registry.getModelVersion(create(GetModelVersionRequestSchema, target), ctx),
      );
      const size = modelVersion?.artifactSize ?? 0n;
      return [compact({ path: versionFileName, is_dir: false, file_size: int64Json(size) })];
    }
    return [];
  };

  /** The content of a file: its size first, then its bytes. */
  async function* download(target: ProxiedTarget, path: string, ctx: HandlerContext) {
    const messages =
      target.kind === "run"
        ? tracking.downloadArtifact(create(DownloadArtifactRequestSchema, target), ctx)
        : target.kind === "version" && target.file === versionFileName
          ? registry.downloadModelVersion(create(DownloadModelVersionRequestSchema, target), ctx)
          : undefined;
    if (messages === undefined) throw mlflowErrors.artifactPathUnknown(path);
    for await (const message of messages) {
      const content = message.content;
      if (content?.case === "info") yield { size: content.value.fileSize ?? 0n };
      else if (content?.case === "chunk" && content.value !== undefined) yield content.value;
    }
  }

  return {
    [artifactsPath]: {
      GET: withContext(TrackingService.method.listArtifacts, async (req, res, ctx) => {
        const path = stringField(queryParams(req.url ?? ""), "path").replace(/^\/+|\/+$/g, "");
        const target = await resolve(path, ctx).catch((err: unknown) => {
          if (mlflowErrors.artifactPathUnknown.is(err)) return { kind: "none" } as const;
          throw err;
        });
        sendJson(res, 200, compact({ files: await list(target, ctx) }));
      }),
    },
    [`${artifactsPath}/*`]: {
      GET: withContext(TrackingService.method.downloadArtifact, async (req, res, ctx) => {
        const path = pathOf(req);
        const chunks = download(await resolve(path, ctx), path, ctx);
        // The first message says the size: errors until then are answered as MLflow errors.
        const first = await chunks.next();
        if (first.done === true || first.value instanceof Uint8Array) {
          throw commonErrors.internal(new Error("a download began without its file info"));
        }
        res.writeHead(200, {
          "content-type": contentTypeOf(path),
          "content-length": String(first.value.size),
          "content-disposition": `attachment; filename="${path.slice(path.lastIndexOf("/") + 1).replace(/"/g, "")}"`,
          "x-content-type-options": "nosniff",
        });
        const bytes = async function* () {
          for await (const chunk of chunks) if (chunk instanceof Uint8Array) yield chunk;
        };
        // A failure mid-file can no longer be answered: the response is cut short.
        await pipeline(Readable.from(bytes()), res as NodeJS.WritableStream);
      }),
      PUT: withContext(TrackingService.method.uploadArtifact, async (req, res, ctx) => {
        const path = pathOf(req);
        const target = await resolve(path, ctx);
        if (target.kind !== "run") {
          throw commonErrors.invalidArgument(
            "path",
            target.kind === "version"
              ? "a registered model version is immutable; register a new version instead"
              : "uploads go to a run's artifacts: <...>/<run_id>/artifacts/<file>",
          );
        }
        const messages = async function* () {
          yield create(UploadArtifactRequestSchema, {
            content: { case: "header", value: { runId: target.runId, path: target.path } },
          });
          for await (const chunk of req as AsyncIterable<Buffer>) {
            yield create(UploadArtifactRequestSchema, { content: { case: "chunk", value: chunk } });
          }
        };
        await tracking.uploadArtifact(messages(), ctx);
        sendJson(res, 200, {});
      }),
    },
  };
}
