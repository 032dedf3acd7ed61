/**
 * INFERENCE_AUTH=token and OIDC, over real sockets: a registry (REGISTRY_AUTH=token, OIDC) that
 * verifies API tokens, a local OIDC issuer, and an inference server that asks the one and trusts
 * the other. The matrix: every RPC of the inference server (InferenceService, the Open Inference
 * Protocol's GRPCInferenceService, gRPC Health) over Connect, gRPC (its fast path included),
 * gRPC-Web and the gRPC-only port, and every JSON route, x (no token, bad, expired API token,
 * expired JWT, JWT of a foreign key, valid API token, valid JWT). Health, readiness, metrics and
 * docs stay open.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { GRPCInferenceService } from "../../gen/inference/v2/grpc_predict_v2_pb.js";
import { AuthMethod, AuthService, Permission } from "../../gen/mlpipe/auth/v1/auth_pb.js";
import { ResourceKind } from "../../gen/mlpipe/auth/v1/policy_pb.js";
import { InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { callAnyMethod } from "../../test/support/call-any-method.js";
import { closedPort } from "../../test/support/closed-port.js";
import { startTestServer } from "../../test/support/inference-test-harness.js";
import { startTestOidcIssuer, type TestOidcIssuer } from "../../test/support/oidc-issuer.js";
import { writeTestModels } from "../../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";
import { createRegistryTokenVerifier } from "./registry-token-verifier.js";

const bootstrapToken = "bootstrap-admin-token-0123456789abcdef";
const admin = { headers: { authorization: `Bearer ${bootstrapToken}` } };

type Who = "none" | "bad" | "expired" | "jwt-expired" | "jwt-foreign" | "token" | "jwt";
const refused: readonly Who[] = ["none", "bad", "expired", "jwt-expired", "jwt-foreign"];
const identities: readonly Who[] = [...refused, "token", "jwt"];

let idp: TestOidcIssuer;
let registry: TestRegistryServer;
let inference: InferenceServer;
let dir: string;
const tokens: Partial<Record<Who, string>> = {};
/** The valid API token's id, for revoking it. */
let tokenId = "";

beforeAll(async () => {
  idp = await startTestOidcIssuer();
  dir = await mkdtemp(join(tmpdir(), "mlpipe-inauth-"));
  await writeFile(join(dir, "bootstrap"), `${bootstrapToken}\n`);
  const oidcEnv = { OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: idp.audience };
  registry = await startTestRegistryServer({
    env: {
      REGISTRY_AUTH: "token",
      AUTH_BOOTSTRAP_TOKEN_FILE: join(dir, "bootstrap"),
      AUTH_DEFAULT_PERMISSION: "none",
      ...oidcEnv,
    },
  });
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: registry.url, httpVersion: "1.1" }));
  const made = await auth.createToken({ principal: "scorer", description: "inference client" }, admin);
  tokens.token = made.token;
  tokenId = made.info?.tokenId ?? "";
  const expiring = await auth.createToken({ principal: "scorer", expireTime: BigInt(Date.now() + 300) }, admin);
  tokens.expired = expiring.token;
  tokens.bad = "mlp_not-a-token-anyone-was-given";
  tokens.jwt = await idp.sign();
  tokens["jwt-expired"] = await idp.sign({ exp: Math.floor(Date.now() / 1000) - 3600 });
  tokens["jwt-foreign"] = await idp.sign({}, { foreignKey: true });
  inference = await startTestServer({
    MODEL_PATH: writeTestModels().iris,
    INFERENCE_GRPC_PORT: "0",
    INFERENCE_AUTH: "token",
    REGISTRY_URL: registry.url,
    ...oidcEnv,
  });
  // Expiry can only be set in the future: a token that lives for 300 ms, then waited out.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(expiring.info?.expireTime) - Date.now() + 50)));
}, 180_000);

afterAll(async () => {
  await inference?.shutdown();
  await registry?.close();
  await idp?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Calls `method` with an empty request; "ok", or the code it failed with. */
function call(transport: Transport, method: DescMethod, token: string | undefined): Promise<Code | "ok"> {
  return callAnyMethod(transport, method, create(method.input), token, 10_000);
}

const services: readonly DescService[] = [InferenceService, GRPCInferenceService, Health];

describe("inference RPCs x identity (INFERENCE_AUTH=token)", () => {
  const methods = services.flatMap((s) => s.methods);
  const surfaces: Record<string, () => Transport> = {
    connect: () => createConnectTransport({ baseUrl: inference.url, httpVersion: "1.1" }),
    grpc: () => createGrpcTransport({ baseUrl: inference.url }),
    "grpc-web": () => createGrpcWebTransport({ baseUrl: inference.url, httpVersion: "1.1" }),
    "grpc (gRPC-only port)": () => createGrpcTransport({ baseUrl: inference.grpcUrl }),
  };

  for (const [surface, transportOf] of Object.entries(surfaces)) {
    it(`${surface}: unauthenticated callers are refused, authenticated ones served, health open`, async () => {
      const transport = transportOf();
      const got: string[] = [];
      const want: string[] = [];
      for (const method of methods) {
        for (const who of identities) {
          const result = await call(transport, method, tokens[who]);
          const name = `/${method.parent.typeName}/${method.name} as ${who}`;
          got.push(`${name}: ${result === Code.Unauthenticated ? "unauthenticated" : "served"}`);
          const open = method.parent === Health || !refused.includes(who);
          want.push(`${name}: ${open ? "served" : "unauthenticated"}`);
        }
      }
      expect(got).toEqual(want);
    }, 120_000);
  }
});

/** The JSON routes of the inference server: method, path, body. */
const jsonRoutes: readonly [string, string, unknown][] = [
  ["POST", "/predict", { inputs: [[5.1, 3.5, 1.4, 0.2]] }],
  ["POST", "/predict/batch", { inputs: [[5.1, 3.5, 1.4, 0.2]] }],
  ["POST", "/models/iris-classifier/predict", { inputs: [[5.1, 3.5, 1.4, 0.2]] }],
  ["GET", "/model/info", undefined],
  ["GET", "/models", undefined],
  ["GET", "/models/iris-classifier/info", undefined],
  ["GET", "/models/iris-classifier/ready", undefined],
  ["GET", "/v2", undefined],
  ["GET", "/v2/models/iris-classifier", undefined],
  ["GET", "/v2/models/iris-classifier/ready", undefined],
  ["POST", "/v2/models/iris-classifier/infer", { inputs: [] }],
  ["POST", "/invocations", { inputs: [[5.1, 3.5, 1.4, 0.2]] }],
  ["GET", "/no-such-route", undefined],
];

const openRoutes = [
  "/health",
  "/health/live",
  "/health/ready",
  "/v2/health/live",
  "/v2/health/ready",
  "/ping",
  "/metrics",
  "/openapi.json",
];

describe("inference JSON routes x identity (INFERENCE_AUTH=token)", () => {
  async function request(method: string, path: string, body: unknown, token: string | undefined) {
    const res = await fetch(`${inference.url}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, challenge: res.headers.get("www-authenticate"), text };
  }

  it("answers 401, WWW-Authenticate: Bearer and the JSON error to every refused identity, serves the others", async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const [method, path, body] of jsonRoutes) {
      for (const who of identities) {
        const res = await request(method, path, body, tokens[who]);
        const name = `${method} ${path} as ${who}`;
        const refusedWell =
          res.status === 401 &&
          res.challenge?.startsWith("Bearer") === true &&
          /"code":"unauthenticated"/.test(res.text);
        got.push(`${name}: ${res.status === 401 ? (refusedWell ? "401" : `malformed 401 ${res.text}`) : "served"}`);
        want.push(`${name}: ${refused.includes(who) ? "401" : "served"}`);
      }
    }
    expect(got).toEqual(want);
  }, 60_000);

  it("predicts for a valid API token and a valid JWT", async () => {
    for (const who of ["token", "jwt"] as const) {
      const res = await request("POST", "/predict", { features: [5.1, 3.5, 1.4, 0.2] }, tokens[who]);
      expect(res.status, res.text).toBe(200);
    }
  });

  it("names the reason in the error id", async () => {
    const id = async (who: Who) => JSON.parse((await request("POST", "/predict", {}, tokens[who])).text).error.id;
    expect(await id("none")).toBe("AUTH_UNAUTHENTICATED");
    expect(await id("bad")).toBe("AUTH_INVALID_TOKEN");
    expect(await id("expired")).toBe("AUTH_TOKEN_EXPIRED");
    expect(await id("jwt-expired")).toBe("AUTH_TOKEN_EXPIRED");
    expect(await id("jwt-foreign")).toBe("AUTH_INVALID_TOKEN");
  });

  it("keeps health, readiness, metrics and docs open", async () => {
    for (const path of openRoutes) {
      expect((await request("GET", path, undefined, undefined)).status, path).not.toBe(401);
    }
  });

  it("answers a Connect unary call with 401, the Connect error and the challenge", async () => {
    const res = await fetch(`${inference.url}/${InferenceService.typeName}/Predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await res.json()).toMatchObject({ code: "unauthenticated" });
  });

  it("gives refused streams the challenge too: PredictStream over Connect, gRPC-Web and gRPC", async () => {
    const json = new TextEncoder().encode("{}");
    const envelope = new Uint8Array(5 + json.byteLength);
    new DataView(envelope.buffer).setUint32(1, json.byteLength);
    envelope.set(json, 5);
    for (const contentType of ["application/connect+json", "application/grpc-web+json"]) {
      const res = await fetch(`${inference.url}/${InferenceService.typeName}/PredictStream`, {
        method: "POST",
        headers: { "content-type": contentType },
        body: envelope,
      });
      const text = Buffer.from(await res.arrayBuffer()).toString("latin1");
      expect(`${res.headers.get("grpc-status") ?? ""} ${text}`, contentType).toMatch(/16|unauthenticated/);
      expect(res.headers.get("www-authenticate"), contentType).toMatch(/^Bearer/);
    }
    const grpc = createClient(InferenceService, createGrpcTransport({ baseUrl: inference.url }));
    async function* one() {
      yield { features: [5.1, 3.5, 1.4, 0.2] };
    }
    try {
      for await (const _ of grpc.predictStream(one())) break;
      expect.unreachable("an anonymous PredictStream must be refused");
    } catch (err) {
      const refusal = ConnectError.from(err);
      expect(refusal.code).toBe(Code.Unauthenticated);
      expect(refusal.metadata.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });
});

describe("API tokens verified by the registry", () => {
  it("caches a verification for the TTL: a revoked token works until it runs out, then is refused", async () => {
    let now = Date.now();
    const verifier = createRegistryTokenVerifier({ url: registry.url, ttlMs: 30_000, now: () => now });
    try {
      const auth = createClient(AuthService, createConnectTransport({ baseUrl: registry.url, httpVersion: "1.1" }));
      const made = await auth.createToken({ principal: "short-lived" }, admin);
      expect(await verifier.verify(made.token)).toMatchObject({ principal: "short-lived", method: "token" });
      await auth.revokeToken({ tokenId: made.info?.tokenId ?? "" }, admin);
      expect((await verifier.verify(made.token)).principal).toBe("short-lived");
      now += 30_001;
      await expect(verifier.verify(made.token)).rejects.toMatchObject({ id: "AUTH_INVALID_TOKEN" });
    } finally {
      verifier.close();
    }
  });

  it("answers UNAVAILABLE, not 401, while the registry cannot be reached; JWTs still work", async () => {
    const offline = await startTestServer({
      MODEL_PATH: writeTestModels().iris,
      INFERENCE_AUTH: "token",
      INFERENCE_AUTH_CACHE_TTL_MS: "0",
      REGISTRY_URL: `http://127.0.0.1:${await closedPort()}`,
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: idp.audience,
    });
    try {
      const predict = (token: string | undefined) =>
        fetch(`${offline.url}/predict`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] }),
        });
      const unavailable = await predict(tokens.token);
      expect(unavailable.status).toBe(503);
      expect(await unavailable.json()).toMatchObject({ error: { id: "AUTH_VERIFIER_UNAVAILABLE" } });
      expect((await predict(tokens.jwt)).status).not.toBe(401);
      expect((await predict(tokens.jwt)).status).not.toBe(503);
    } finally {
      await offline.shutdown();
    }
  });

  it("the valid token still works (not revoked by the test above)", async () => {
    expect(tokenId).not.toBe("");
    const res = await fetch(`${inference.url}/model/info`, { headers: { authorization: `Bearer ${tokens.token}` } });
    expect(res.status).toBe(200);
  });
});

describe("OIDC on the registry (REGISTRY_AUTH=token)", () => {
  it("authenticates a JWT as its principal, to whom grants apply", async () => {
    const transport = createConnectTransport({ baseUrl: registry.url, httpVersion: "1.1" });
    const auth = createClient(AuthService, transport);
    const models = createClient(RegistryService, transport);
    await models.createRegisteredModel({ name: "oidc-model" }, admin);
    const asUser = { headers: { authorization: `Bearer ${tokens.jwt}` } };
    expect(await auth.whoAmI({}, asUser)).toMatchObject({ principal: "oidc-user", method: AuthMethod.OIDC });
    const before = await models.getRegisteredModel({ name: "oidc-model" }, asUser).catch((e: unknown) => e);
    expect(ConnectError.from(before).code).toBe(Code.PermissionDenied);
    await auth.setGrant(
      {
        grant: {
          principal: "oidc-user",
          resourceKind: ResourceKind.REGISTERED_MODEL,
          resourceId: "oidc-model",
          permission: Permission.READ,
        },
      },
      admin,
    );
    expect((await models.getRegisteredModel({ name: "oidc-model" }, asUser)).registeredModel?.name).toBe("oidc-model");
    const write = await models.createRegisteredModel({ name: "by-oidc" }, asUser).catch((e: unknown) => e);
    expect(ConnectError.from(write).code).toBe(Code.PermissionDenied);
    for (const who of ["jwt-expired", "jwt-foreign"] as const) {
      const err = await auth
        .whoAmI({}, { headers: { authorization: `Bearer ${tokens[who]}` } })
        .catch((e: unknown) => e);
      expect(ConnectError.from(err).code, who).toBe(Code.Unauthenticated);
    }
  });
});
