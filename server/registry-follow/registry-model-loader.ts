/**
 * A ModelLoader for one version of a registered model: it asks the registry for the version
 * (status, SHA-256), reuses the cached file when one matches that hash, and otherwise downloads
 * the artifact (DownloadModelVersion, a stream of chunks) into the cache, which keeps it only when
 * its SHA-256 matches the registry's. Registry failures become catalogued errors, so the caller
 * (the stage follower) can log them and keep serving the version it has.
 */
import { Code as ConnectCode, ConnectError } from "@connectrpc/connect";
import { inferenceErrors, MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { ModelVersionStatus } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import type { ModelCache } from "../models/model-cache.js";
import type { ModelArtifact, ModelLoader } from "../models/model-loader.js";
import type { RegistryClient } from "./registry-client.js";
import type { VersionLabels } from "./registry-model-state.js";

/** Options of {@link createRegistryModelLoader}. */
export interface RegistryModelLoaderOptions {
  readonly client: RegistryClient;
  readonly cache: ModelCache;
  /** Registered model name. */
  readonly name: string;
  /** Version number. */
  readonly version: bigint;
  /** Its stage and aliases when the loader is made (ModelInfo shows them; the follower keeps them current). */
  readonly labels: VersionLabels;
  readonly logger: Logger;
  /** Aborts the registry calls (shutdown). */
  readonly signal?: AbortSignal | undefined;
}

/** The URI a registry version is known by in logs and ModelInfo.source, as MLflow writes it. */
export function registryModelUri(name: string, version: bigint | string): string {
  return `models:/${name}/${version}`;
}

/** Creates the loader; nothing is fetched before `resolve`. */
export function createRegistryModelLoader(options: RegistryModelLoaderOptions): ModelLoader {
  const { client, cache, name, version, logger, signal } = options;
  const source = registryModelUri(name, version);
  const callOptions = signal === undefined ? {} : { signal };

  async function fetchPath(): Promise<string> {
    const { modelVersion } = await client.rpc.getModelVersion({ name, version }, callOptions);
    if (modelVersion === undefined) throw inferenceErrors.modelLoadFailed(source, "the registry returned no version");
    if (modelVersion.status !== ModelVersionStatus.READY) {
      throw inferenceErrors.modelLoadFailed(source, `the version is not READY: ${modelVersion.statusMessage}`);
    }
    // The expected hash is the registry's record of the version, not the download's own info
    // message: that comes with the bytes and could be as wrong as they are.
    const key = { name, version: String(version), sha256: modelVersion.artifactSha256 };
    const cached = await cache.find(key);
    if (cached !== undefined) {
      logger.info({ model: name, version: key.version, path: cached }, "model file reused from the cache");
      return cached;
    }
    const started = performance.now();
    const stream = client.rpc.downloadModelVersion({ name, version }, callOptions)[Symbol.asyncIterator]();
    let path: string;
    let size: number;
    try {
      const first = await stream.next();
      if (first.done === true || first.value.content.case !== "info") {
        throw inferenceErrors.modelLoadFailed(source, "the registry's download did not start with the file's info");
      }
      size = Number(first.value.content.value.fileSize);
      const chunks = (async function* () {
        for (let next = await stream.next(); next.done !== true; next = await stream.next()) {
          if (next.value.content.case === "chunk") yield next.value.content.value;
        }
      })();
      path = await cache.store(key, chunks, source, size);
    } finally {
      // Ends the call when the download stopped early (a write failed, a bad first message).
      await stream.return?.();
    }
    logger.info(
      { model: name, version: key.version, bytes: size, seconds: (performance.now() - started) / 1000 },
      "model file downloaded from the registry",
    );
    return path;
  }

  return {
    description: `registry ${client.url} ${source}`,
    async resolve(): Promise<ModelArtifact> {
      let path: string;
      try {
        path = await fetchPath();
      } catch (err) {
        throw translate(err, source, client.url);
      }
      return {
        name,
        version: String(version),
        stage: options.labels.stage,
        aliases: options.labels.aliases,
        source,
        path,
      };
    },
  };
}

/** Registry call failures as catalogued errors: the registry gone is UNAVAILABLE, the rest a failed load. */
function translate(err: unknown, source: string, url: string): MlpipeError {
  if (err instanceof MlpipeError) return err;
  const e = ConnectError.from(err);
  switch (e.code) {
    case ConnectCode.Unavailable:
    case ConnectCode.DeadlineExceeded:
    case ConnectCode.Canceled:
    case ConnectCode.Aborted:
    case ConnectCode.Unknown:
      return inferenceErrors.registryUnavailable(url, e);
    case ConnectCode.NotFound:
      return inferenceErrors.modelLoadFailed(source, "the registry has no such version", e);
    default:
      return inferenceErrors.modelLoadFailed(
        source,
        `the registry answered ${ConnectCode[e.code]}: ${e.rawMessage}`,
        e,
      );
  }
}
