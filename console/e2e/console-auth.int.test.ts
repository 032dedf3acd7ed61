/**
 * The web console with authentication, in a real browser (Debian's chromium driven by
 * playwright-core) against the real registry server with REGISTRY_AUTH=token: a bad token is
 * refused with an error, a reader signs in and sees no stage or alias actions, the sign-in
 * survives a reload (sessionStorage) and ends with the sign-out, and the bootstrap administrator
 * sees the actions and promotes a version to Production. The Serving proxy refuses requests
 * without credentials. Waits are bounded (playwright's timeouts, 30 s).
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AuthService, Permission } from "../../gen/mlpipe/auth/v1/auth_pb.js";
import { ResourceKind } from "../../gen/mlpipe/auth/v1/policy_pb.js";
import { RegistryService, Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { chromiumTool, launchBrowser, type TestBrowser } from "../../test/support/browser.js";
import { type TestModels, writeTestModels } from "../../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";
import { describeWithTools } from "../../test/support/system-tools.js";

const bootstrapToken = "bootstrap-admin-token-console-0123456789";
const admin = { headers: { authorization: `Bearer ${bootstrapToken}` } };
const modelName = "guarded";

describeWithTools("web console sign-in against a registry with REGISTRY_AUTH=token", [chromiumTool], () => {
  let dir: string;
  let models: TestModels;
  let server: TestRegistryServer;
  let registry: ReturnType<typeof createClient<typeof RegistryService>>;
  let readerToken: string;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-console-auth-"));
    await writeFile(join(dir, "bootstrap"), bootstrapToken);
    server = await startTestRegistryServer({
      env: {
        REGISTRY_AUTH: "token",
        AUTH_BOOTSTRAP_TOKEN_FILE: join(dir, "bootstrap"),
        AUTH_DEFAULT_PERMISSION: "none",
      },
    });
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const auth = createClient(AuthService, transport);
    registry = createClient(RegistryService, transport);
    readerToken = (await auth.createToken({ principal: "reader" }, admin)).token;
    for (const resourceKind of [ResourceKind.EXPERIMENT, ResourceKind.REGISTERED_MODEL]) {
      await auth.setGrant(
        { grant: { principal: "reader", resourceKind, resourceId: "*", permission: Permission.READ } },
        admin,
      );
    }
    models = writeTestModels();
    const uploads = join(server.config.artifactRoot, "uploads");
    mkdirSync(uploads, { recursive: true });
    copyFileSync(models.iris, join(uploads, "iris.onnx"));
    await registry.createRegisteredModel({ name: modelName }, admin);
    await registry.createModelVersion(
      { name: modelName, source: pathToFileURL(join(uploads, "iris.onnx")).href },
      admin,
    );
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (models !== undefined) rmSync(models.dir, { recursive: true, force: true });
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function signIn(token: string): Promise<void> {
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  it("refuses a bad token, shows a reader no actions, keeps the sign-in over a reload and ends it", async () => {
    await page.goto(`${server.url}/models/${modelName}`);
    await signIn("mlp_not-a-token-anyone-was-given");
    await page
      .getByRole("alert")
      .getByText(/This token is not accepted/)
      .waitFor();

    const permissions = page.waitForResponse((r) => r.url().endsWith("/GetMyPermissions") && r.ok());
    await signIn(readerToken);
    await page.getByText("Signed in as").getByText("reader").waitFor();
    await page.getByRole("heading", { name: `Model ${modelName}` }).waitFor();
    await page.getByText("READY").first().waitFor();
    await permissions;
    expect(await page.getByRole("button", { name: /Change stage of version/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /Set an alias on version/ }).count()).toBe(0);

    await page.reload();
    await page.getByText("Signed in as").getByText("reader").waitFor();
    expect(await page.evaluate("sessionStorage.length")).toBe(1);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
  });

  it("shows the administrator the actions, which promote a version to Production", async () => {
    await page.goto(`${server.url}/models/${modelName}`);
    await signIn(bootstrapToken);
    await page.getByRole("button", { name: "Set an alias on version 1" }).waitFor();
    await page.getByRole("button", { name: "Change stage of version 1" }).click();
    const dialog = page.getByRole("dialog", { name: `Change the stage of ${modelName} version 1` });
    await dialog.getByLabel("New stage").selectOption({ label: "Production" });
    await dialog.getByRole("button", { name: "Move to Production" }).click();
    await dialog.waitFor({ state: "hidden" });
    const version = await registry.getModelVersion({ name: modelName, version: 1n }, admin);
    expect(version.modelVersion?.currentStage).toBe(Stage.PRODUCTION);
  });

  it("refuses the Serving proxy's requests without credentials", async () => {
    const anonymous = await fetch(`${server.url}/console-api/serving/model/info`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: "unauthenticated", id: "AUTH_UNAUTHENTICATED" } });
    // Signed in, the request gets past authentication to the proxy's own answer (no inference server set).
    const signedIn = await fetch(`${server.url}/console-api/serving/model/info`, admin);
    expect(signedIn.status).not.toBe(401);
    expect(await signedIn.json()).toMatchObject({ error: { id: "CONSOLE_INFERENCE_NOT_CONFIGURED" } });
  });
});
