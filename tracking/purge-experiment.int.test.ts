/**
 * Issue 13, defect 1: PurgeExperiment must delete only what the experiment's own runs own. An
 * experiment could be created with the registry's namespace (or another experiment's directory,
 * or a foreign bucket) as its artifact location; purging it deleted every object under it, the
 * registry's model copies included. Now such locations are refused at creation, and a purge
 * deletes each run's own prefix only, never the experiment's whole location. On a local
 * directory and on S3 (s3rver), through a real registry server.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMlpipeClient, type MlpipeClient } from "../sdk/index.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { createLocalBlobStore } from "../storage/blob/local-blob-store.js";
import { createS3BlobStore } from "../storage/blob/s3-blob-store.js";
import { startTestRegistryServer, type TestRegistryServer } from "../test/support/registry-server.js";
import { startS3Server, type TestS3 } from "../test/support/s3-server.js";

interface Setup {
  readonly server: TestRegistryServer;
  /** The server's artifact store, opened by the test to look behind the API. */
  readonly blobs: BlobStore;
  readonly client: MlpipeClient;
}

let s3: TestS3;
const setups = new Map<string, Setup>();

async function setUp(
  name: string,
  env: Record<string, string>,
  blobsOf: (dataDir: string) => BlobStore | Promise<BlobStore>,
) {
  const server = await startTestRegistryServer({ env });
  setups.set(name, { server, blobs: await blobsOf(server.dataDir), client: createMlpipeClient({ url: server.url }) });
}

beforeAll(async () => {
  s3 = await startS3Server();
  const s3Env = {
    ARTIFACT_ROOT: `s3://${s3.bucket}/purge`,
    S3_ENDPOINT_URL: s3.endpoint,
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  };
  await setUp("local", {}, (dataDir) => createLocalBlobStore(join(dataDir, "artifacts")));
  await setUp("s3", s3Env, () => createS3BlobStore({ uri: `s3://${s3.bucket}/purge`, s3: s3.s3Config }));
});

afterAll(async () => {
  for (const { server, blobs } of setups.values()) {
    await blobs.close();
    await server.close();
  }
  await s3?.dispose();
});

async function* bytes(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

async function codeOf(call: Promise<unknown>): Promise<Code | undefined> {
  return call.then(
    () => undefined,
    (err: unknown) => (err instanceof ConnectError ? err.code : undefined),
  );
}

describe.each(["local", "s3"])("%s artifact store", (name) => {
  const setup = (): Setup => {
    const s = setups.get(name);
    if (s === undefined) throw new Error(`no setup ${name}`);
    return s;
  };

  it("refuses artifact locations outside the store's own namespace for experiments", async () => {
    const { client, blobs } = setup();
    const root = blobs.rootUri;
    const other = (await client.tracking.createExperiment({ name: `${name}-owner-${Date.now()}` })).experiment;
    const refused = [
      `${root}/model-registry`,
      `${root}/model-registry/`,
      `${root}/model-registry/some-model`,
      `${root}/${other?.experimentId}`,
      `${root}/0/x`,
      `${root}`,
      `${root}/a/../model-registry`,
      "file:///tmp/somewhere-else",
      "s3://another-bucket/x",
      `${root}-sibling/x`,
    ];
    for (const artifactLocation of refused) {
      const code = await codeOf(
        client.tracking.createExperiment({ name: `${name}-bad-${Date.now()}`, artifactLocation }),
      );
      expect(code, artifactLocation).toBe(Code.InvalidArgument);
    }
    const team = `team-${name}-${Date.now()}`;
    const own = await client.tracking.createExperiment({ name: `${team}-a`, artifactLocation: `${root}/${team}/` });
    expect(own.experiment?.artifactLocation).toBe(`${root}/${team}`);
    // Inside or around another experiment's location: a purge of one would reach into the other.
    for (const artifactLocation of [`${root}/${team}/sub`, `${root}/${team}`]) {
      const code = await codeOf(client.tracking.createExperiment({ name: `${team}-b`, artifactLocation }));
      expect(code, artifactLocation).toBe(Code.InvalidArgument);
    }
    // A name that merely starts the same is another directory.
    await client.tracking.createExperiment({ name: `${team}-c`, artifactLocation: `${root}/${team}x` });
  });

  it("purges the runs' own artifacts only: other files under the location and the registry's copies stay", async () => {
    const { client, blobs, server } = setup();
    const team = `purged-${name}-${Date.now()}`;
    const experimentName = `${team}-experiment`;
    const { experiment } = await client.tracking.createExperiment({
      name: experimentName,
      artifactLocation: `${blobs.rootUri}/${team}`,
    });
    const experimentId = experiment?.experimentId ?? "";
    const run = await client.startRun({ experiment: experimentName });
    const file = join(server.dataDir, "upload.bin");
    writeFileSync(file, randomBytes(2048));
    await run.logArtifact(file, "data/upload.bin");
    await run.end();
    const runKey = `${team}/${run.runId}/artifacts/data/upload.bin`;
    expect(await blobs.stat(runKey)).toEqual({ size: 2048 });
    // What the experiment does not own: a file beside its runs, and a registry copy.
    await blobs.put(`${team}/shared/notes.txt`, bytes(Buffer.from("not the experiment's")));
    const registryCopy = `model-registry/${crypto.randomUUID()}/model.onnx`;
    await blobs.put(registryCopy, bytes(Buffer.from("a registered model")));

    await client.tracking.deleteExperiment({ experimentId });
    await client.tracking.purgeExperiment({ experimentId });

    expect(await blobs.stat(runKey)).toBeUndefined();
    expect(await blobs.stat(`${team}/shared/notes.txt`)).toEqual({ size: 20 });
    expect(await blobs.stat(registryCopy)).toEqual({ size: 18 });
    expect(await codeOf(client.tracking.getRun({ runId: run.runId }))).toBe(Code.NotFound);
  });
});
