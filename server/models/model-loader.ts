/**
 * How a model version is fetched. The server loads whatever a ModelLoader resolves to: a local
 * `.onnx` file (MODEL_PATH, here), or a version of a registered model downloaded into the local
 * cache (server/registry-follow/registry-model-loader.ts, driven by the stage follower).
 */
import { access, constants } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { inferenceErrors } from "../../core/errors/index.js";

/** A model version ready to load: its identity and a local file. */
export interface ModelArtifact {
  /** Registered name, e.g. "iris-classifier". */
  readonly name: string;
  /** Version, e.g. "3". */
  readonly version: string;
  /** Stage of the version, e.g. "Production"; "" when unknown. */
  readonly stage: string;
  /** Aliases of the version, e.g. ["champion"]. */
  readonly aliases: readonly string[];
  /**
   * What it is called in ModelInfo and in the errors a caller receives: a registry URI, or a local
   * file's name (never the server's directory layout, which only the log shows via `path`).
   */
  readonly source: string;
  /** Absolute path of the local `.onnx` file. */
  readonly path: string;
}

/** Resolves the model version to load. */
export interface ModelLoader {
  /** Human-readable description for logs, e.g. "file /models/iris.onnx". */
  readonly description: string;
  /** Fetches (if needed) and describes the version; rejects with INFERENCE_MODEL_LOAD_FAILED. */
  resolve(): Promise<ModelArtifact>;
}

/** Options of {@link createLocalFileLoader}. */
export interface LocalFileLoaderOptions {
  /** Path of the `.onnx` file (relative to the working directory or absolute). */
  readonly path: string;
  /** Model name; default the file name without `.onnx`. */
  readonly name?: string | undefined;
  /** Version; default "1". */
  readonly version?: string | undefined;
  /** Stage; default "". */
  readonly stage?: string | undefined;
  readonly aliases?: readonly string[] | undefined;
}

/**
 * A loader that serves a local `.onnx` file as one fixed version. Its source is the file's name:
 * callers (ModelInfo, load errors) never learn where it sits on the server; the log names the path.
 */
export function createLocalFileLoader(options: LocalFileLoaderOptions): ModelLoader {
  const path = resolve(options.path);
  const source = basename(path);
  return {
    description: `file ${path}`,
    async resolve(): Promise<ModelArtifact> {
      try {
        await access(path, constants.R_OK);
      } catch (err) {
        // The cause (ENOENT, EACCES) names the path for the server log.
        throw inferenceErrors.modelLoadFailed(source, "the file cannot be read", err);
      }
      return {
        name: options.name ?? basename(path).replace(/\.onnx$/i, ""),
        version: options.version ?? "1",
        stage: options.stage ?? "",
        aliases: options.aliases ?? [],
        source,
        path,
      };
    },
  };
}
