import type { Config } from "../../core/config.js";
import type { BlobStore } from "./blob-store.js";
import { createLocalBlobStore } from "./local-blob-store.js";
import { createS3BlobStore } from "./s3-blob-store.js";

/**
 * Creates the artifact blob store the configuration names: an S3-compatible bucket when
 * `artifactRoot` is an `s3://bucket[/prefix]` URI (client settings from `config.s3`), otherwise a
 * local directory, created if missing. The caller closes it.
 */
export async function createBlobStore(config: Pick<Config, "artifactRoot" | "s3">): Promise<BlobStore> {
  if (config.artifactRoot.startsWith("s3://")) return createS3BlobStore({ uri: config.artifactRoot, s3: config.s3 });
  return createLocalBlobStore(config.artifactRoot);
}
