import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generate } from "selfsigned";

/** A certificate authority that is also the server's certificate, plus a client certificate it signed, as PEM. */
export interface TestCertificates {
  /** Server certificate for 127.0.0.1 and localhost; also the CA clients and the server trust. */
  readonly cert: string;
  /** Its private key. */
  readonly key: string;
  /** A client certificate signed by `cert`'s key, with the common name asked for. */
  readonly clientCert: string;
  /** The client certificate's key. */
  readonly clientKey: string;
}

/**
 * Generates fresh certificates (EC P-256, valid from a minute ago for a day). The server
 * certificate is self-signed with CA rights so that it can sign the client certificate and be
 * the one trust anchor on both sides.
 */
export async function generateTestCertificates(clientCn = "test-client"): Promise<TestCertificates> {
  const now = Date.now();
  const pems = await generate([{ name: "commonName", value: "mlpipe test" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
    clientCertificate: { cn: clientCn, keyType: "ec" },
  });
  if (pems.clientcert === undefined || pems.clientprivate === undefined) throw new Error("no client certificate");
  return { cert: pems.cert, key: pems.private, clientCert: pems.clientcert, clientKey: pems.clientprivate };
}

/** Writes the server's cert.pem and key.pem (and ca.pem, the same certificate) into `dir`; returns their paths. */
export async function writeServerFiles(
  dir: string,
  certs: TestCertificates,
): Promise<{ certFile: string; keyFile: string; caFile: string }> {
  const paths = { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem"), caFile: join(dir, "ca.pem") };
  await writeFile(paths.certFile, certs.cert);
  await writeFile(paths.keyFile, certs.key);
  await writeFile(paths.caFile, certs.cert);
  return paths;
}
