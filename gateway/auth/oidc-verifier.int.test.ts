/**
 * OIDC JWT verification against a JWKS served by a local HTTP issuer (keys made by jose): the
 * token's faults are 401s with the right id, an unreachable issuer is UNAVAILABLE.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, MlpipeError } from "../../core/errors/index.js";
import { startTestOidcIssuer, type TestOidcIssuer } from "../../test/support/oidc-issuer.js";
import { createBearerAuthenticator } from "./bearer-authenticator.js";
import { createOidcVerifier, looksLikeJwt } from "./oidc-verifier.js";

async function failure(promise: Promise<unknown>): Promise<{ code: Code; id: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof MlpipeError) return { code: err.code, id: err.id };
    throw err;
  }
  throw new Error("expected a failure");
}

const unauthenticated = (id: string) => ({ code: Code.Unauthenticated, id });

describe("createOidcVerifier", () => {
  let idp: TestOidcIssuer;
  beforeAll(async () => {
    idp = await startTestOidcIssuer();
  });
  afterAll(async () => {
    await idp?.close();
  });

  it("accepts a valid token, finding the JWKS through the discovery document", async () => {
    const verifier = createOidcVerifier({ issuer: idp.issuer, audience: idp.audience });
    const identity = await verifier.verify(await idp.sign());
    expect(identity).toMatchObject({ principal: "oidc-user", method: "oidc" });
    expect(identity.expiresAt).toBeGreaterThan(Date.now());
  });

  it("names the principal by OIDC_PRINCIPAL_CLAIM", async () => {
    const verifier = createOidcVerifier({
      issuer: idp.issuer,
      audience: idp.audience,
      jwksUrl: idp.jwksUrl,
      principalClaim: "email",
    });
    expect((await verifier.verify(await idp.sign({ email: "ana@example.com" }))).principal).toBe("ana@example.com");
    expect(await failure(verifier.verify(await idp.sign()))).toEqual(unauthenticated("AUTH_INVALID_TOKEN"));
    expect(await failure(verifier.verify(await idp.sign({ email: "" })))).toEqual(
      unauthenticated("AUTH_INVALID_TOKEN"),
    );
  });

  it("refuses expired, foreign, misaddressed and unsigned tokens", async () => {
    const verifier = createOidcVerifier({ issuer: idp.issuer, audience: idp.audience, jwksUrl: idp.jwksUrl });
    const past = Math.floor(Date.now() / 1000) - 3600;
    expect(await failure(verifier.verify(await idp.sign({ exp: past })))).toEqual(
      unauthenticated("AUTH_TOKEN_EXPIRED"),
    );
    const invalid = unauthenticated("AUTH_INVALID_TOKEN");
    expect(await failure(verifier.verify(await idp.sign({ iss: "https://elsewhere.example" })))).toEqual(invalid);
    expect(await failure(verifier.verify(await idp.sign({ aud: "another-service" })))).toEqual(invalid);
    expect(await failure(verifier.verify(await idp.sign({}, { foreignKey: true })))).toEqual(invalid);
    expect(await failure(verifier.verify(idp.unsigned()))).toEqual(invalid);
    expect(await failure(verifier.verify(await idp.sign({}, { noExpiry: true })))).toEqual(invalid);
    expect(await failure(verifier.verify("a.b.c"))).toEqual(invalid);
  });

  it("answers UNAVAILABLE, not 401, when the issuer cannot be reached, and recovers", async () => {
    const gone = await startTestOidcIssuer();
    const token = await gone.sign();
    await gone.close();
    const verifier = createOidcVerifier({ issuer: gone.issuer, audience: gone.audience, timeoutMs: 2_000 });
    expect(await failure(verifier.verify(token))).toEqual({ code: Code.Unavailable, id: "AUTH_VERIFIER_UNAVAILABLE" });
    const viaJwks = createOidcVerifier({ issuer: gone.issuer, audience: gone.audience, jwksUrl: gone.jwksUrl });
    expect(await failure(viaJwks.verify(token))).toEqual({ code: Code.Unavailable, id: "AUTH_VERIFIER_UNAVAILABLE" });
  });

  it("is chosen by the bearer authenticator for tokens shaped like a JWT", async () => {
    const oidc = createOidcVerifier({ issuer: idp.issuer, audience: idp.audience, jwksUrl: idp.jwksUrl });
    const apiTokens = { verify: async (token: string) => ({ principal: `api:${token}`, method: "token" as const }) };
    const authenticate = createBearerAuthenticator({ tokens: apiTokens, oidc });
    const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });
    expect((await authenticate(bearer(await idp.sign())))?.principal).toBe("oidc-user");
    expect((await authenticate(bearer("mlp_abc")))?.principal).toBe("api:mlp_abc");
    const oidcOnly = createBearerAuthenticator({ oidc });
    expect(await failure(oidcOnly(bearer("mlp_abc")))).toEqual(unauthenticated("AUTH_INVALID_TOKEN"));
    expect(looksLikeJwt("mlp_abc")).toBe(false);
    expect(looksLikeJwt(await idp.sign())).toBe(true);
  });
});
