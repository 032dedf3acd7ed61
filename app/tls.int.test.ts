/**
 * TLS on both servers, end to end (README "Security"): the inference server's JSON, Connect and
 * gRPC (grpc-js, the fast path, PredictStream) over TLS with a CA of the test, and the registry
 * with mutual TLS and REGISTRY_AUTH=token, where a verified client certificate's CN is the caller.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo, CliOutput } from "../cli/cli-io.js";
import { allCommands } from "../cli/commands/all-commands.js";
import { runCli } from "../cli/run-cli.js";
import { AuthMethod, AuthService } from "../gen/mlpipe/auth/v1/auth_pb.js";
import { InferenceService } from "../gen/mlpipe/inference/v1/inference_pb.js";
import { createMlpipeClient } from "../sdk/index.js";
import { createGrpcClient } from "../test/support/grpc-client.js";
import { startTestServer } from "../test/support/inference-test-harness.js";
import { writeTestModels } from "../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../test/support/registry-server.js";
import {
  generateTestCertificates,
  type TestCertificates,
  writeServerFiles,
} from "../test/support/test-certificates.js";
import type { InferenceServer } from "./inference-server.js";

const setosa = [5.1, 3.5, 1.4, 0.2];

function postJsonTls(url: string, body: unknown, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: "POST", ca, headers: { "content-type": "application/json" }, agent: false, timeout: 10_000 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("inference server over TLS", () => {
  let dir: string;
  let certs: TestCertificates;
  let server: InferenceServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-tls-app-"));
    certs = await generateTestCertificates();
    const files = await writeServerFiles(dir, certs);
    server = await startTestServer({
      MODEL_PATH: writeTestModels().iris,
      TLS_CERT_FILE: files.certFile,
      TLS_KEY_FILE: files.keyFile,
    });
  });
  afterAll(async () => {
    await server?.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves JSON /predict, Connect and gRPC-Web over https", async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const json = await postJsonTls(`${server.url}/predict`, { features: setosa }, certs.cert);
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body)).toMatchObject({ prediction: 0 });
    for (const transport of [
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca: certs.cert } }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca: certs.cert } }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca: certs.cert } }),
    ]) {
      const answer = await createClient(InferenceService, transport).predict({ features: setosa });
      expect(answer.prediction?.prediction).toBe(0);
    }
  });

  it("serves gRPC (grpc-js, the fast path's Predict and PredictStream) with the CA as trust", async () => {
    const client = createGrpcClient(
      InferenceService,
      new URL(server.url).host,
      {},
      credentials.createSsl(Buffer.from(certs.cert)),
    );
    try {
      expect((await client.predict({ features: setosa })).prediction?.prediction).toBe(0);
      const ids: string[] = [];
      for await (const r of client.predictStream([
        { requestId: "a", features: setosa },
        { requestId: "b", features: setosa },
      ])) {
        ids.push(r.requestId);
      }
      expect(ids.sort()).toEqual(["a", "b"]);
    } finally {
      client.close();
    }
  });
});

describe("registry with mutual TLS and token authentication", () => {
  const bootstrapToken = "bootstrap-admin-token-abcdef0123456789";
  let dir: string;
  let certs: TestCertificates;
  let server: TestRegistryServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-mtls-app-"));
    certs = await generateTestCertificates("alice");
    const files = await writeServerFiles(dir, certs);
    await writeFile(join(dir, "bootstrap"), bootstrapToken);
    server = await startTestRegistryServer({
      env: {
        REGISTRY_AUTH: "token",
        AUTH_BOOTSTRAP_TOKEN_FILE: join(dir, "bootstrap"),
        TLS_CERT_FILE: files.certFile,
        TLS_KEY_FILE: files.keyFile,
        TLS_CLIENT_CA_FILE: files.caFile,
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("takes a verified client certificate's CN as the principal over Connect and gRPC; a token wins over it", async () => {
    const keys = { ca: certs.cert, cert: certs.clientCert, key: certs.clientKey };
    const url = server.url.replace(/^http:/, "https:");
    for (const transport of [
      createConnectTransport({ baseUrl: url, httpVersion: "1.1", nodeOptions: keys }),
      createGrpcTransport({ baseUrl: url, nodeOptions: keys }),
    ]) {
      const auth = createClient(AuthService, transport);
      expect(await auth.whoAmI({})).toMatchObject({ principal: "alice", method: AuthMethod.MTLS });
      const withToken = await auth.whoAmI({}, { headers: { authorization: `Bearer ${bootstrapToken}` } });
      expect(withToken.method).toBe(AuthMethod.TOKEN);
    }
  });

  it("refuses a client without a certificate at the handshake", async () => {
    const url = server.url.replace(/^http:/, "https:");
    const auth = createClient(
      AuthService,
      createConnectTransport({ baseUrl: url, httpVersion: "1.1", nodeOptions: { ca: certs.cert } }),
    );
    await expect(auth.whoAmI({})).rejects.toThrow();
  });
});

describe("SDK and CLI against a TLS registry", () => {
  let dir: string;
  let caFile: string;
  let url: string;
  let server: TestRegistryServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-tls-cli-"));
    const files = await writeServerFiles(dir, await generateTestCertificates());
    caFile = files.caFile;
    server = await startTestRegistryServer({ env: { TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile } });
    url = server.url.replace(/^http:/, "https:");
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function mlpipe(argv: readonly string[], env: Record<string, string>) {
    let out = "";
    let err = "";
    const output = (write: (t: string) => void): CliOutput => ({ write, isTTY: false, columns: 100 });
    const io: CliIo = {
      stdout: output((t) => {
        out += t;
      }),
      stderr: output((t) => {
        err += t;
      }),
      env,
      cwd: dir,
    };
    const code = await runCli([...argv, "--registry-url", url], io, allCommands);
    return { code, out, err };
  }

  it("the SDK trusts caFile, the CLI MLPIPE_CA_FILE; without it the server is not trusted", async () => {
    const client = createMlpipeClient({ url, caFile });
    const experiment = await client.getOrCreateExperiment("over-tls");
    expect(experiment.name).toBe("over-tls");
    const listed = await mlpipe(["experiments", "list"], { MLPIPE_CA_FILE: caFile });
    expect(listed.code).toBe(0);
    expect(listed.out).toContain("over-tls");
    const untrusted = await mlpipe(["experiments", "list"], {});
    expect(untrusted.code).not.toBe(0);
    await expect(createMlpipeClient({ url }).getOrCreateExperiment("x")).rejects.toThrow();
  });
});
