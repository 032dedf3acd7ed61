import { createContextValues } from "@connectrpc/connect";
import { contentTypeMatcher, type UniversalHandler, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { readAheadBodyKey, readsAhead, withReadAheadBody } from "./request-read-ahead.js";

/** A handler that answers with the bytes of the request body it was given. */
function echo(): UniversalHandler {
  const handle = async (req: UniversalServerRequest) => {
    const chunks: Uint8Array[] = [];
    if (req.body instanceof Object && Symbol.asyncIterator in req.body) {
      for await (const chunk of req.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
    }
    return {
      status: 200,
      body: (async function* () {
        yield Buffer.concat(chunks);
      })(),
    };
  };
  return Object.assign(handle, {
    protocolNames: [],
    service: InferenceService,
    method: InferenceService.method.predict,
    requestPath: "/mlpipe.inference.v1.InferenceService/Predict",
    allowedMethods: ["POST"],
    supportedContentType: contentTypeMatcher(/^application\/json$/),
  });
}

async function bodyOf(handler: UniversalHandler, req: UniversalServerRequest): Promise<string> {
  const res = await handler(req);
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body ?? []) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function request(body: AsyncIterable<Uint8Array>, withValue?: string): UniversalServerRequest {
  const contextValues = createContextValues();
  if (withValue !== undefined) contextValues.set(readAheadBodyKey, new TextEncoder().encode(withValue));
  return {
    httpVersion: "1.1",
    method: "POST",
    url: "http://x/mlpipe.inference.v1.InferenceService/Predict",
    header: new Headers(),
    body,
    signal: new AbortController().signal,
    contextValues,
  };
}

async function* socketBody(): AsyncIterable<Uint8Array> {
  yield new TextEncoder().encode("from the socket");
}

describe("request read-ahead", () => {
  it("reads ahead the requests of one message only", () => {
    expect(["unary", "server_streaming"].map(readsAhead)).toEqual([true, true]);
    expect(["client_streaming", "bidi_streaming"].map(readsAhead)).toEqual([false, false]);
  });

  it("hands the handler the body read ahead, or the socket's when none was", async () => {
    const handler = withReadAheadBody(echo());
    expect(await bodyOf(handler, request(socketBody(), "read ahead"))).toBe("read ahead");
    expect(await bodyOf(handler, request(socketBody()))).toBe("from the socket");
    expect(handler.requestPath).toBe("/mlpipe.inference.v1.InferenceService/Predict");
  });
});
