/**
 * CORS_ALLOWED_ORIGINS on a real inference server: a browser's preflight for a Connect call and a
 * gRPC-Web call from an allowed origin is answered, the actual calls carry the allow-origin and
 * expose the protocols' headers, other origins get no CORS headers; and off unless configured.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { startTestServer } from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";

const allowed = "https://app.example.com";
const modelInfo = "/mlpipe.inference.v1.InferenceService/ModelInfo";
let server: InferenceServer;
let plain: InferenceServer;

beforeAll(async () => {
  const iris = writeTestModels().iris;
  server = await startTestServer({ MODEL_PATH: iris, CORS_ALLOWED_ORIGINS: `${allowed}, http://localhost:3000` });
  plain = await startTestServer({ MODEL_PATH: iris });
});

afterAll(async () => {
  await server?.shutdown();
  await plain?.shutdown();
});

function preflight(base: string, origin: string, headers: string): Promise<Response> {
  return fetch(`${base}${modelInfo}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers },
  });
}

describe("CORS_ALLOWED_ORIGINS", () => {
  it("answers the preflight of an allowed origin with the method and headers it asks for", async () => {
    const res = await preflight(server.url, allowed, "content-type,connect-protocol-version,connect-timeout-ms");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe(
      "content-type,connect-protocol-version,connect-timeout-ms",
    );
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it("lets an allowed origin read a Connect answer and gRPC-Web's status headers", async () => {
    const connect = await fetch(`${server.url}${modelInfo}`, {
      method: "POST",
      headers: { origin: allowed, "content-type": "application/json", "connect-protocol-version": "1" },
      body: "{}",
    });
    expect(connect.status).toBe(200);
    expect(connect.headers.get("access-control-allow-origin")).toBe(allowed);
    const grpcWeb = await fetch(`${server.url}${modelInfo}`, {
      method: "POST",
      headers: { origin: allowed, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    expect(grpcWeb.status).toBe(200);
    expect(grpcWeb.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(grpcWeb.headers.get("access-control-expose-headers")).toMatch(/Grpc-Status, Grpc-Message/);
    await grpcWeb.arrayBuffer();
  });

  it("gives other origins, and servers without the setting, no CORS headers", async () => {
    const other = await preflight(server.url, "https://evil.example.com", "content-type");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const off = await preflight(plain.url, allowed, "content-type");
    expect(off.headers.get("access-control-allow-origin")).toBeNull();
    const json = await fetch(`${plain.url}/health/live`, { headers: { origin: allowed } });
    expect(json.headers.get("access-control-allow-origin")).toBeNull();
  });
});
