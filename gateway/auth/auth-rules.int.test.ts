/**
 * What authentication and authorization do beyond the matrix (auth-matrix.int.test.ts), over real
 * sockets against the registry server with REGISTRY_AUTH=token: the HTTP shape of refusals, token
 * revocation and last use, the creator's MANAGE, search results filtered to what the caller may
 * read, the Production permission, and the audit actor taken from the identity, not the header.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo, CliOutput } from "../../cli/cli-io.js";
import { allCommands } from "../../cli/commands/all-commands.js";
import { runCli } from "../../cli/run-cli.js";
import { AuthMethod, AuthService, Permission } from "../../gen/mlpipe/auth/v1/auth_pb.js";
import { ResourceKind } from "../../gen/mlpipe/auth/v1/policy_pb.js";
import { RegistryService, Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createRegistryClient } from "../../server/registry-follow/registry-client.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";

const bootstrapToken = "bootstrap-admin-token-abcdef0123456789";
const admin = { headers: { authorization: `Bearer ${bootstrapToken}` } };
const as = (token: string, extra: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${token}`, ...extra },
});

async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe("authentication and authorization rules", () => {
  let server: TestRegistryServer;
  let dir: string;
  let auth: ReturnType<typeof createClient<typeof AuthService>>;
  let tracking: ReturnType<typeof createClient<typeof TrackingService>>;
  let registry: ReturnType<typeof createClient<typeof RegistryService>>;

  /** A new token for `principal` with these grants ("*" of each kind unless ids are given). */
  async function user(principal: string, grants: { kind: ResourceKind; id: string; permission: Permission }[]) {
    for (const g of grants) {
      await auth.setGrant(
        { grant: { principal, resourceKind: g.kind, resourceId: g.id, permission: g.permission } },
        admin,
      );
    }
    return (await auth.createToken({ principal }, admin)).token;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-auth-"));
    await writeFile(join(dir, "bootstrap"), bootstrapToken);
    server = await startTestRegistryServer({
      env: {
        REGISTRY_AUTH: "token",
        AUTH_BOOTSTRAP_TOKEN_FILE: join(dir, "bootstrap"),
        AUTH_DEFAULT_PERMISSION: "none",
        // Each principal its own bucket: 20 writes at once, then one a second.
        REGISTRY_WRITE_RATE_LIMIT: "1",
        REGISTRY_WRITE_BURST: "20",
      },
    });
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    auth = createClient(AuthService, transport);
    tracking = createClient(TrackingService, transport);
    registry = createClient(RegistryService, transport);
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers 401 with WWW-Authenticate and 403 with the JSON error body over HTTP", async () => {
    const url = `${server.url}/mlpipe.tracking.v1.TrackingService/GetExperiment`;
    const post = (headers: Record<string, string>) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: '{"experimentId":"0"}',
      });
    const anonymous = await post({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await anonymous.json()).toMatchObject({ code: "unauthenticated" });
    const wrongScheme = await post({ authorization: "Basic dXNlcjpwYXNz" });
    expect(wrongScheme.status).toBe(401);
    const nobody = await user("nobody", []);
    const denied = await post({ authorization: `Bearer ${nobody}` });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: "permission_denied", message: expect.stringContaining("READ") });
    // The health check stays open, for probes.
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
  });

  it("puts WWW-Authenticate in the trailers of refused server-streaming calls on every protocol", async () => {
    const json = new TextEncoder().encode('{"name":"no-such-model"}');
    const envelope = new Uint8Array(5 + json.byteLength);
    new DataView(envelope.buffer).setUint32(1, json.byteLength);
    envelope.set(json, 5);
    for (const [method, contentType] of [
      ["WatchRegisteredModel", "application/connect+json"],
      ["DownloadModelVersion", "application/connect+json"],
      ["WatchRegisteredModel", "application/grpc-web+json"],
      ["DownloadModelVersion", "application/grpc-web+json"],
    ] as const) {
      const res = await fetch(`${server.url}/mlpipe.registry.v1.RegistryService/${method}`, {
        method: "POST",
        headers: { "content-type": contentType },
        body: envelope,
      });
      // The end-of-stream frame (Connect: JSON metadata) or the trailer frame (gRPC-Web: header lines).
      const end = Buffer.from(await res.arrayBuffer()).toString("latin1");
      expect(end, `${method} ${contentType}`).toMatch(/unauthenticated|grpc-status:\s*16/i);
      expect(end, `${method} ${contentType}`).toMatch(/www-authenticate"?:\s*\[?"?Bearer realm/i);
    }
    const grpc = createClient(RegistryService, createGrpcTransport({ baseUrl: server.url }));
    try {
      for await (const _ of grpc.watchRegisteredModel({ name: "no-such-model" })) break;
      expect.unreachable("an anonymous Watch must be refused");
    } catch (err) {
      const refused = ConnectError.from(err);
      expect(refused.code).toBe(Code.Unauthenticated);
      expect(refused.metadata.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });

  it("guards MLflow's REST API with the same tokens and grants, the actor from the token", async () => {
    const api = `${server.url}/api/2.0/mlflow/`;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${api}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const anonymous = await post("experiments/create", { name: "mlflow-anon" });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error_code: "UNAUTHENTICATED" });
    const badToken = await post("experiments/create", { name: "mlflow-anon" }, { authorization: "Bearer mlp_nope" });
    expect(badToken.status).toBe(401);
    // Routes that check parameters of their own before their RPC: an anonymous caller is refused
    // before they are read (401, not a 400 about them); a caller with a token gets the 400.
    const checking: [string, string][] = [
      ["POST", "runs/log-metric"],
      ["POST", "runs/log-model"],
      ["POST", "runs/log-inputs"],
      ["PATCH", "model-versions/update"],
      ["POST", "model-versions/transition-stage"],
    ];
    for (const [method, path] of checking) {
      const send = (headers: Record<string, string>) =>
        fetch(`${api}${path}`, { method, headers: { "content-type": "application/json", ...headers }, body: "{}" });
      const anon = await send({});
      expect(anon.status, `${method} ${path} anonymous`).toBe(401);
      expect(await anon.json()).toMatchObject({ error_code: "UNAUTHENTICATED" });
      const withToken = await send(admin.headers);
      expect(withToken.status, `${method} ${path} with a token`).toBe(400);
      expect(await withToken.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
    }
    const reader = await user("mlflow-reader", [
      { kind: ResourceKind.EXPERIMENT, id: "*", permission: Permission.READ },
    ]);
    const denied = await post("experiments/create", { name: "mlflow-r" }, { authorization: `Bearer ${reader}` });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error_code: "PERMISSION_DENIED" });
    const created = await post("experiments/create", { name: "mlflow-admin" }, admin.headers);
    expect(created.status).toBe(200);
    const { experiment_id: id } = (await created.json()) as { experiment_id: string };
    const read = await fetch(`${api}experiments/get?experiment_id=${id}`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ experiment: { experiment_id: id, name: "mlflow-admin" } });
  });

  it("tells who a token is, records its last use, and stops accepting it once revoked", async () => {
    const created = await auth.createToken({ principal: "ci-bot", description: "CI" }, admin);
    expect(created.token).toMatch(/^mlp_[A-Za-z0-9_-]{43}$/);
    const me = await auth.whoAmI({}, as(created.token));
    expect(me).toMatchObject({
      principal: "ci-bot",
      method: AuthMethod.TOKEN,
      admin: false,
      tokenId: created.info?.tokenId,
    });
    expect((await auth.whoAmI({}, admin)).admin).toBe(true);
    const listed = await auth.listTokens({ principal: "ci-bot" }, admin);
    expect(listed.tokens[0]?.lastUsedTime).toBeGreaterThan(0n);
    await auth.revokeToken({ tokenId: created.info?.tokenId ?? "" }, admin);
    expect(await codeOf(auth.whoAmI({}, as(created.token)))).toBe(Code.Unauthenticated);
    expect(await codeOf(auth.revokeToken({ tokenId: "no-such-token" }, admin))).toBe(Code.NotFound);
    expect(await codeOf(auth.createToken({ principal: "x", expireTime: 1n }, admin))).toBe(Code.InvalidArgument);
  });

  it("tells the caller its own permissions on registered models and what Production needs", async () => {
    const kind = ResourceKind.REGISTERED_MODEL;
    const viewer = await user("perm-viewer", [
      { kind, id: "*", permission: Permission.READ },
      { kind, id: "editable", permission: Permission.EDIT },
      { kind, id: "hidden", permission: Permission.NONE },
    ]);
    const mine = await auth.getMyPermissions(
      { resourceKind: kind, resourceIds: ["editable", "other", "hidden"] },
      as(viewer),
    );
    expect(mine.permissions.map((p) => [p.resourceId, p.permission])).toEqual([
      ["editable", Permission.EDIT],
      ["other", Permission.READ],
      ["hidden", Permission.NONE],
    ]);
    expect(mine.productionPermission).toBe(Permission.MANAGE);
    const asAdmin = await auth.getMyPermissions({ resourceKind: kind, resourceIds: ["hidden"] }, admin);
    expect(asAdmin.permissions[0]?.permission).toBe(Permission.MANAGE);
    expect(await codeOf(auth.getMyPermissions({ resourceKind: kind, resourceIds: [] }, as(viewer)))).toBe(
      Code.InvalidArgument,
    );
    expect(
      await codeOf(auth.getMyPermissions({ resourceKind: ResourceKind.RUN, resourceIds: ["x"] }, as(viewer))),
    ).toBe(Code.InvalidArgument);
    expect(await codeOf(auth.getMyPermissions({ resourceKind: kind, resourceIds: ["x"] }))).toBe(Code.Unauthenticated);
  });

  it("gives the creator MANAGE on what it creates, and nothing more", async () => {
    const other = (await tracking.createExperiment({ name: "someone-elses" }, admin)).experiment?.experimentId ?? "";
    const maker = await user("maker", [{ kind: ResourceKind.EXPERIMENT, id: "*", permission: Permission.EDIT }]);
    const own = (await tracking.createExperiment({ name: "makers-own" }, as(maker))).experiment?.experimentId ?? "";
    expect(await codeOf(tracking.deleteExperiment({ experimentId: own }, as(maker)))).toBe("ok");
    expect(await codeOf(tracking.deleteExperiment({ experimentId: other }, as(maker)))).toBe(Code.PermissionDenied);
    const grants = await auth.listGrants({ principal: "maker", resourceKind: ResourceKind.EXPERIMENT }, admin);
    expect(grants.grants.map((g) => [g.resourceId, g.permission])).toEqual(
      [
        ["*", Permission.EDIT],
        [own, Permission.MANAGE],
      ].sort(),
    );
  });

  it("filters search results to what the caller may read, on every protocol", async () => {
    const seen = (await tracking.createExperiment({ name: "visible" }, admin)).experiment?.experimentId ?? "";
    await tracking.createExperiment({ name: "hidden" }, admin);
    await registry.createRegisteredModel({ name: "hidden-model" }, admin);
    const viewer = await user("viewer", [{ kind: ResourceKind.EXPERIMENT, id: seen, permission: Permission.READ }]);
    const grpc = createClient(TrackingService, createGrpcTransport({ baseUrl: server.url }));
    for (const client of [tracking, grpc]) {
      const found = await client.searchExperiments({}, as(viewer));
      expect(found.experiments.map((e) => e.name)).toEqual(["visible"]);
    }
    expect((await registry.searchRegisteredModels({}, as(viewer))).registeredModels).toEqual([]);
    expect((await tracking.searchExperiments({}, admin)).experiments.length).toBeGreaterThan(1);
  });

  it("needs AUTH_PRODUCTION_PERMISSION (MANAGE) to move a version to Production", async () => {
    await registry.createRegisteredModel({ name: "staged" }, admin);
    const editor = await user("model-editor", [
      { kind: ResourceKind.REGISTERED_MODEL, id: "*", permission: Permission.EDIT },
    ]);
    const move = (stage: Stage, token: string) =>
      codeOf(registry.transitionModelVersionStage({ name: "staged", version: 1n, stage }, as(token)));
    // Version 1 does not exist: NOT_FOUND shows the call got past authorization.
    expect(await move(Stage.STAGING, editor)).toBe(Code.NotFound);
    expect(await move(Stage.PRODUCTION, editor)).toBe(Code.PermissionDenied);
    expect(await move(Stage.PRODUCTION, bootstrapToken)).toBe(Code.NotFound);
  });

  it("records the authenticated principal as the audit actor, ignoring mlpipe-actor", async () => {
    const editor = await user("auditee", [
      { kind: ResourceKind.REGISTERED_MODEL, id: "*", permission: Permission.EDIT },
    ]);
    await registry.createRegisteredModel({ name: "audited" }, as(editor, { "mlpipe-actor": "mallory" }));
    const events = await registry.listRegistryEvents({ name: "audited" }, admin);
    expect(events.events.map((e) => e.actor)).toEqual(["auditee"]);
  });

  it("limits each principal's write calls, answering 429 with Retry-After, without slowing the others", async () => {
    const flooder = await user("flooder", [{ kind: ResourceKind.EXPERIMENT, id: "*", permission: Permission.EDIT }]);
    const codes: (Code | "ok")[] = [];
    for (let i = 0; i < 60 && !codes.includes(Code.ResourceExhausted); i++) {
      codes.push(
        await codeOf(tracking.setExperimentTag({ experimentId: "0", key: "k", value: String(i) }, as(flooder))),
      );
    }
    expect(codes.slice(0, 20)).toEqual(Array(20).fill("ok"));
    expect(codes.at(-1)).toBe(Code.ResourceExhausted);
    const res = await fetch(`${server.url}/mlpipe.tracking.v1.TrackingService/SetExperimentTag`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${flooder}` },
      body: '{"experimentId":"0","key":"k","value":"v"}',
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
    // Reads are not limited, and another principal's writes go on.
    expect(await codeOf(tracking.getExperiment({ experimentId: "0" }, as(flooder)))).toBe("ok");
    expect(await codeOf(tracking.setExperimentTag({ experimentId: "0", key: "k", value: "v" }, admin))).toBe("ok");
  });

  it("lets an inference server follow a model with the token of MLPIPE_TOKEN (its registry client)", async () => {
    await registry.createRegisteredModel({ name: "served" }, admin);
    const reader = await user("inference", [
      { kind: ResourceKind.REGISTERED_MODEL, id: "served", permission: Permission.READ },
    ]);
    const withToken = createRegistryClient({ url: server.url, token: reader });
    const without = createRegistryClient({ url: server.url });
    try {
      expect((await withToken.rpc.getRegisteredModel({ name: "served" })).registeredModel?.name).toBe("served");
      expect(await codeOf(without.rpc.getRegisteredModel({ name: "served" }))).toBe(Code.Unauthenticated);
    } finally {
      withToken.close();
      without.close();
    }
  });

  it("lets only administrators manage tokens, grants and administrators", async () => {
    const plain = await user("plain", []);
    expect(await codeOf(auth.createToken({ principal: "plain" }, as(plain)))).toBe(Code.PermissionDenied);
    await auth.setAdmin({ principal: "plain", admin: true }, admin);
    expect(await codeOf(auth.listTokens({}, as(plain)))).toBe("ok");
    expect(await codeOf(auth.setAdmin({ principal: "plain", admin: false }, as(plain)))).toBe(Code.InvalidArgument);
    await auth.setAdmin({ principal: "plain", admin: false }, admin);
    expect(await codeOf(auth.listTokens({}, as(plain)))).toBe(Code.PermissionDenied);
    expect(
      await codeOf(
        auth.deleteGrant({ principal: "plain", resourceKind: ResourceKind.EXPERIMENT, resourceId: "9" }, admin),
      ),
    ).toBe(Code.NotFound);
  });

  it("the CLI creates, lists and revokes tokens and sets grants with the token of MLPIPE_TOKEN", async () => {
    const mlpipe = async (argv: readonly string[], token?: string) => {
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
        env: token === undefined ? {} : { MLPIPE_TOKEN: token },
        cwd: dir,
      };
      const code = await runCli([...argv, "--registry-url", server.url], io, allCommands);
      return { code, out, err };
    };
    const created = await mlpipe(["tokens", "create", "cli-user", "--expires-in-days", "30"], bootstrapToken);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(token).toMatch(/^mlp_/);
    expect((await mlpipe(["grants", "set", "cli-user", "experiment", "*", "read"], bootstrapToken)).code).toBe(0);
    expect((await mlpipe(["experiments", "list"], token)).code).toBe(0);
    const anonymous = await mlpipe(["experiments", "list"]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.err).toMatch(/authentication required/);
    const listed = await mlpipe(["tokens", "list", "--principal", "cli-user", "--json"], bootstrapToken);
    const id = (JSON.parse(listed.out) as { tokens: { tokenId: string }[] }).tokens[0]?.tokenId ?? "";
    expect((await mlpipe(["tokens", "revoke", id], bootstrapToken)).code).toBe(0);
    expect((await mlpipe(["experiments", "list"], token)).err).toMatch(/invalid bearer token: revoked/);
    expect((await mlpipe(["tokens", "list"], token)).code).not.toBe(0);
  });
});
