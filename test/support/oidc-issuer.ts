import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

/** A local OIDC issuer for tests: discovery document and JWKS over HTTP, keys made by jose. */
export interface TestOidcIssuer {
  /** The issuer URL (`iss`), e.g. http://127.0.0.1:41234. */
  readonly issuer: string;
  /** The JWKS URL the discovery document names. */
  readonly jwksUrl: string;
  /** The audience tokens are issued for by default. */
  readonly audience: string;
  /** Requests for the JWKS so far. */
  jwksRequests(): number;
  /**
   * A signed JWT: `sub` "oidc-user", the issuer, the audience and 5 minutes of validity unless
   * `claims` says otherwise; `foreignKey` signs with a key the JWKS does not hold, `noExpiry`
   * leaves `exp` out.
   */
  sign(claims?: JWTPayload, options?: { foreignKey?: boolean; noExpiry?: boolean }): Promise<string>;
  /** An unsigned JWT (`alg: none`) with the same default claims. */
  unsigned(claims?: JWTPayload): string;
  close(): Promise<void>;
}

/** Starts the issuer on an ephemeral port of 127.0.0.1 (ES256 keys). */
export async function startTestOidcIssuer(audience = "mlpipe"): Promise<TestOidcIssuer> {
  const keys = await generateKeyPair("ES256");
  const foreign = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: "test-key", alg: "ES256", use: "sig" };
  let jwksRequests = 0;
  let issuer = "";
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === "/jwks") {
      jwksRequests++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const defaults = (claims: JWTPayload): JWTPayload => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: issuer, aud: audience, sub: "oidc-user", iat: now, exp: now + 300, ...claims };
  };
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    audience,
    jwksRequests: () => jwksRequests,
    sign: (claims = {}, options = {}) => {
      const { exp, ...rest } = defaults(claims);
      return new SignJWT(options.noExpiry === true ? rest : { ...rest, exp })
        .setProtectedHeader({ alg: "ES256", kid: "test-key" })
        .sign(options.foreignKey === true ? foreign.privateKey : keys.privateKey);
    },
    unsigned: (claims = {}) => `${b64({ alg: "none", typ: "JWT" })}.${b64(defaults(claims))}.`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
