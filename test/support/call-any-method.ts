/**
 * One call of any RPC over a Connect transport, whatever its kind, for tests that go over every
 * method of a service (the auth matrices): unary calls complete; streaming calls send `request` as
 * their one message and read at most the first answer (a stream that is let through may never end
 * by itself). Gives "ok" or the call's Connect code.
 */
import type { DescMethod, Message } from "@bufbuild/protobuf";
import { type Code, ConnectError, type Transport } from "@connectrpc/connect";

/** Calls `method` with `request`, bounded by `timeoutMs`, sending `token` as a bearer token when given. */
export async function callAnyMethod(
  transport: Transport,
  method: DescMethod,
  request: Message,
  token: string | undefined,
  timeoutMs: number,
): Promise<Code | "ok"> {
  const header = token === undefined ? undefined : { authorization: `Bearer ${token}` };
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    if (method.methodKind === "unary") {
      await transport.unary({ ...method, methodKind: "unary" }, signal, undefined, header, request);
    } else {
      async function* one() {
        yield request;
      }
      const res = await transport.stream(
        { ...method, methodKind: method.methodKind },
        signal,
        undefined,
        header,
        one(),
      );
      for await (const _ of res.message) break;
    }
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}
