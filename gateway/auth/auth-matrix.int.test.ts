/**
 * The authorization test matrix (issue 13): every method of every mlpipe service in gen/ x
 * (no token, bad token, expired token, reader, editor, admin), over real sockets with the
 * Connect protocol (HTTP/1.1) and gRPC (HTTP/2), against the registry server with
 * REGISTRY_AUTH=token. The expected outcome is derived from each method's proto policy, so a new
 * RPC is in the matrix the moment it is generated, and one without a policy fails the server's
 * start (and auth/method-policy.test.ts).
 *
 * MLflow's REST surface is in it the same way: every route of its route table (mlflowRouteTable,
 * both API prefixes and the artifact proxy) x the six identities, each route's expected answer
 * following from the policy of the RPC its handler calls (endpointMethodOf); a route whose
 * handler names no RPC fails the matrix, so a new route cannot be left out.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type DescMessage, type DescMethod, type DescService, type Message } from "@bufbuild/protobuf";
import { isReflectList, isReflectMessage, type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { Code, createClient, type ServiceImpl, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { methodPolicy } from "../../auth/method-policy.js";
import { AuthService, Permission } from "../../gen/mlpipe/auth/v1/auth_pb.js";
import { Access, ResourceKind } from "../../gen/mlpipe/auth/v1/policy_pb.js";
import { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { callAnyMethod } from "../../test/support/call-any-method.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";
import { endpointMethodOf } from "../mlflow/mlflow-call.js";
import { mlflowRouteTable } from "../mlflow/mlflow-routes.js";

/** The services the registry serves, each of whose methods the matrix calls. */
const services: readonly DescService[] = [TrackingService, RegistryService, AuthService];

const bootstrapToken = "bootstrap-admin-token-0123456789abcdef";

type Who = "none" | "bad" | "expired" | "reader" | "editor" | "admin";
const identities: readonly Who[] = ["none", "bad", "expired", "reader", "editor", "admin"];

/** What a call may answer: refused with a code, or let through (whatever the service then says). */
type Outcome = Code.Unauthenticated | Code.PermissionDenied | "allowed";

/** The outcome the method's policy promises for an identity (reader: READ on everything; editor: EDIT). */
function expectedOutcome(method: DescMethod, who: Who): Outcome {
  const access = methodPolicy(method)?.access ?? Access.UNSPECIFIED;
  if (access === Access.PUBLIC) return "allowed";
  if (who === "none" || who === "bad" || who === "expired") return Code.Unauthenticated;
  if (who === "admin") return "allowed";
  const rank: Partial<Record<Access, number>> = {
    [Access.AUTHENTICATED]: 0,
    [Access.READ]: 1,
    [Access.EDIT]: 2,
    [Access.MANAGE]: 3,
    [Access.ADMIN]: 4,
  };
  const held = who === "reader" ? 1 : 2;
  return (rank[access] ?? 99) <= held ? "allowed" : Code.PermissionDenied;
}

/** Sets a string (or appends to a repeated string) field at a dotted path, creating messages on the way. */
function setPath(message: Message, desc: DescMessage, path: string, value: string): void {
  let at: ReflectMessage = reflect(desc, message);
  const parts = path.split(".");
  for (const [i, name] of parts.entries()) {
    const field = at.desc.fields.find((f) => f.name === name);
    if (field === undefined) throw new Error(`${desc.typeName} has no ${path}`);
    if (i === parts.length - 1) {
      const current = at.get(field);
      if (isReflectList(current)) current.add(value);
      else at.set(field, value);
      return;
    }
    if (field.fieldKind !== "message") throw new Error(`${name} of ${path} is not a message`);
    if (!at.isSet(field)) at.set(field, reflect(field.message));
    const next = at.get(field);
    if (!isReflectMessage(next)) throw new Error(`${name} of ${path} is not a message`);
    at = next;
  }
}

interface Fixture {
  readonly experimentId: string;
  readonly runId: string;
  readonly modelName: string;
}

/** A request naming the fixture's resources where the method's policy reads one. */
function requestFor(method: DescMethod, fixture: Fixture): Message {
  const request = create(method.input);
  const ref = methodPolicy(method)?.resource;
  if (ref === undefined || ref.field === "") return request;
  const id =
    ref.kind === ResourceKind.EXPERIMENT
      ? fixture.experimentId
      : ref.kind === ResourceKind.RUN
        ? fixture.runId
        : fixture.modelName;
  setPath(request, method.input, ref.field, id);
  return request;
}

/** Calls any method with one request message; the code it fails with, or "ok". */
// Streams that are let through (Watch) never end by themselves: a bounded read of their start.
function call(transport: Transport, method: DescMethod, request: Message, token: string | undefined) {
  return callAnyMethod(transport, method, request, token, 1_500);
}

function outcomeOf(result: Code | "ok"): Code | "allowed" {
  return result === Code.Unauthenticated || result === Code.PermissionDenied ? result : "allowed";
}

/**
 * MLflow's routes by full path and HTTP method, each with the RPC its handler calls (undefined:
 * none). Read from the table the server routes; the handlers are never run here, so the service
 * implementations are left empty.
 */
function mlflowRoutes(): { path: string; httpMethod: string; rpc: DescMethod | undefined }[] {
  const table = mlflowRouteTable({
    tracking: {} as ServiceImpl<typeof TrackingService>,
    registry: {} as ServiceImpl<typeof RegistryService>,
    artifactRootUri: "file:///matrix",
    maxRequestBytes: 1024,
    requestReadTimeoutMs: 30_000,
  });
  return Object.entries(table).flatMap(([path, methods]) =>
    Object.entries(methods).map(([httpMethod, handler]) => ({ path, httpMethod, rpc: endpointMethodOf(handler) })),
  );
}

/** Routes that call no RPC and are open to anyone, as MLflow's server: the release it follows. */
const openMlflowRoutes = new Set(["GET /version"]);

/**
 * What a route needs besides the resource it names before its RPC is called at all (parameters it
 * parses itself, e.g. a metric's value), by path below the API prefix. A new route that answers
 * 400 before its RPC shows up in the matrix as "allowed" where a refusal was expected: add it here.
 */
const mlflowRequiredParams: Readonly<Record<string, Record<string, unknown>>> = {
  "runs/log-metric": { key: "matrix", value: 1, timestamp: 0 },
  "runs/log-model": {
    model_json: JSON.stringify({ artifact_path: "model", flavors: {}, utc_time_created: "2024-01-01", run_id: "x" }),
  },
  "runs/log-inputs": { datasets: [{ dataset: { name: "d", digest: "x", source_type: "local", source: "s" } }] },
  // Without a description the route only reads the version (GetModelVersion), as MLflow does.
  "model-versions/update": { version: "1", description: "matrix" },
  "model-versions/transition-stage": { version: "1", stage: "Staging" },
};

/** The outcome of an MLflow REST answer: refused (401, 403) or let through. */
function httpOutcomeOf(status: number): Outcome {
  return status === 401 ? Code.Unauthenticated : status === 403 ? Code.PermissionDenied : "allowed";
}

describe("authorization matrix: every RPC x identity, over Connect and gRPC", () => {
  let server: TestRegistryServer;
  let dir: string;
  const tokens: Partial<Record<Who, string>> = {};
  let fixture: Fixture;
  let connect: Transport;
  let grpc: Transport;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-auth-"));
    await writeFile(join(dir, "bootstrap"), `${bootstrapToken}\n`);
    server = await startTestRegistryServer({
      env: {
        REGISTRY_AUTH: "token",
        AUTH_BOOTSTRAP_TOKEN_FILE: join(dir, "bootstrap"),
        AUTH_DEFAULT_PERMISSION: "none",
      },
    });
    connect = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    grpc = createGrpcTransport({ baseUrl: server.url });
    const admin = { headers: { authorization: `Bearer ${bootstrapToken}` } };
    tokens.admin = bootstrapToken;
    tokens.bad = "mlp_not-a-token-anyone-was-given";
    const auth = createClient(AuthService, connect);
    for (const who of ["reader", "editor"] as const) {
      tokens[who] = (await auth.createToken({ principal: who, description: who }, admin)).token;
      const permission = who === "reader" ? Permission.READ : Permission.EDIT;
      for (const resourceKind of [ResourceKind.EXPERIMENT, ResourceKind.REGISTERED_MODEL]) {
        await auth.setGrant({ grant: { principal: who, resourceKind, resourceId: "*", permission } }, admin);
      }
    }
    // Expiry can only be set in the future: a token that lives for 300 ms, then waited out.
    const expiring = await auth.createToken({ principal: "editor", expireTime: BigInt(Date.now() + 300) }, admin);
    tokens.expired = expiring.token;
    const tracking = createClient(TrackingService, connect);
    const experimentId = (await tracking.createExperiment({ name: "matrix" }, admin)).experiment?.experimentId ?? "";
    const runId = (await tracking.createRun({ experimentId }, admin)).run?.info?.runId ?? "";
    const registry = createClient(RegistryService, connect);
    await registry.createRegisteredModel({ name: "matrix-model" }, admin);
    fixture = { experimentId, runId, modelName: "matrix-model" };
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, Number(expiring.info?.expireTime) - Date.now() + 50)),
    );
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const methods = services.flatMap((s) => s.methods);

  it("covers every MLflow REST route, each calling an RPC with a policy", () => {
    const routes = mlflowRoutes();
    expect(routes.length).toBeGreaterThan(90);
    for (const { path, httpMethod, rpc } of routes) {
      const route = `${httpMethod} ${path}`;
      if (openMlflowRoutes.has(route)) continue;
      expect(rpc, `${route} names the RPC it calls (mlflowEndpoint or callingMethod)`).toBeDefined();
      if (rpc !== undefined) expect(methodPolicy(rpc), route).toBeDefined();
    }
  });

  it("mlflow REST: each route answers each identity as its RPC's policy says", async () => {
    // Parameters naming the fixture's resources, whichever of them a route reads.
    const ids = {
      experiment_id: fixture.experimentId,
      experiment_ids: [fixture.experimentId],
      experiment_name: "matrix",
      run_id: fixture.runId,
      run_uuid: fixture.runId,
      name: fixture.modelName,
    };
    const admin = { authorization: `Bearer ${bootstrapToken}` };
    const run = await fetch(`${server.url}/api/2.0/mlflow/runs/get?run_id=${fixture.runId}`, { headers: admin });
    const { run: runJson } = (await run.json()) as { run: { info: { artifact_uri: string } } };
    const artifacts = runJson.info.artifact_uri.replace(/^mlflow-artifacts:\//, "");
    const got: string[] = [];
    const want: string[] = [];
    let created = 0;
    for (const { path, httpMethod, rpc } of mlflowRoutes()) {
      const route = `${httpMethod} ${path}`;
      if (openMlflowRoutes.has(route)) continue;
      let url = `${server.url}${path.replace(/\*$/, `${artifacts}/matrix.txt`)}`;
      let body: string | undefined;
      if (path.endsWith("/*")) body = httpMethod === "PUT" ? "matrix" : undefined;
      else if (path.startsWith("/api/2.0/mlflow-artifacts/")) url += `?path=${encodeURIComponent(artifacts)}`;
      else {
        const below = path.slice(path.indexOf("/mlflow/") + "/mlflow/".length);
        // A route that creates its resource gets a new name each time: the creator of a model or
        // experiment gets MANAGE on it, which would change the answers of the routes after it.
        const creates = rpc !== undefined && methodPolicy(rpc)?.creates !== undefined;
        const fresh = creates ? { name: `matrix-new-${++created}` } : {};
        const params = { ...ids, ...fresh, ...mlflowRequiredParams[below] };
        if (httpMethod === "GET") {
          const query = new URLSearchParams();
          for (const [k, v] of Object.entries(params)) {
            for (const one of Array.isArray(v) ? v : [v]) query.append(k, String(one));
          }
          url += `?${query}`;
        } else body = JSON.stringify(params);
      }
      for (const who of identities) {
        const token = tokens[who];
        const res = await fetch(url, {
          method: httpMethod,
          headers: {
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          },
          ...(body === undefined ? {} : { body }),
        });
        await res.arrayBuffer();
        got.push(`${route} as ${who}: ${String(httpOutcomeOf(res.status))}`);
        want.push(`${route} as ${who}: ${String(rpc === undefined ? "no RPC" : expectedOutcome(rpc, who))}`);
      }
    }
    expect(got).toEqual(want);
  }, 120_000);

  it("covers every method of every service, each with a policy", () => {
    expect(methods.length).toBeGreaterThan(50);
    for (const m of methods) expect(methodPolicy(m), `/${m.parent.typeName}/${m.name}`).toBeDefined();
  });

  for (const [protocol, transportOf] of [
    ["connect", () => connect],
    ["grpc", () => grpc],
  ] as const) {
    it(`${protocol}: each method answers each identity as its policy says`, async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const method of methods) {
        for (const who of identities) {
          const result = await call(transportOf(), method, requestFor(method, fixture), tokens[who]);
          const name = `/${method.parent.typeName}/${method.name} as ${who}`;
          got.push(`${name}: ${String(outcomeOf(result))}`);
          want.push(`${name}: ${String(expectedOutcome(method, who))}`);
        }
      }
      expect(got).toEqual(want);
    }, 120_000);
  }
});
