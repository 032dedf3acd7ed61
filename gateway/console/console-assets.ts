/**
 * The web console's static files (the Vite build in console/dist), served by the registry process
 * at `/`. Files are read once at start (the build is a few hundred KB) and matched by exact path:
 * a request path never reaches the file system, so no path can lead outside the build.
 *
 * - `/assets/*` have content-hashed names: cached for a year as immutable; an unknown one is 404
 *   with the JSON error body of CONSOLE_ASSET_NOT_FOUND (an old tab asking for a previous build's
 *   chunk gets an error, not index.html parsed as JavaScript).
 * - `/` and the console's own routes (`/experiments...`, `/runs...`, see {@link consoleRouteSegments})
 *   answer index.html, revalidated on every load (ETag), so a new build is picked up at once.
 * - Only GET and HEAD are answered, and only on these paths: RPC paths (`/<package>.<Service>/<Method>`,
 *   any method) and unknown paths go on to the RPC handler, which is never shadowed.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { commonErrors } from "../../core/errors/common-errors.js";
import { consoleErrors } from "../../core/errors/console-errors.js";
import type { Logger } from "../../core/logger.js";
import { endBody, type HttpRequest, type HttpResponse, type HttpRoute } from "../http/http-route.js";
import { sendJsonError } from "../protocol-json/json-response.js";

/** First path segments of the console's client-side routes (answered with index.html). */
export const consoleRouteSegments: readonly string[] = ["experiments", "runs", "compare", "models", "serving"];

/** Options of {@link createConsoleAssets}. */
export interface ConsoleAssetsOptions {
  /** Directory of the built console (console/dist). Missing: console paths answer CONSOLE_NOT_BUILT. */
  readonly root: string;
  readonly logger: Logger;
}

/** One file of the build, ready to send. */
interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly etag: string;
  /** The gzip form, made on first request (text files of 1 KiB or more only). */
  gzipped?: Promise<Buffer>;
}

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Hashed build output: the name changes with the content. */
const immutable = "public, max-age=31536000, immutable";

/**
 * What index.html may do: scripts, styles and requests of its own origin only (the APIs are on the
 * same port), inline styles for the charts' canvas sizing, images from artifacts shown as blob URLs.
 */
const htmlSecurityHeaders: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const gzipAsync = promisify(gzip);

/** Creates the route of the console's static files. */
export async function createConsoleAssets(options: ConsoleAssetsOptions): Promise<HttpRoute> {
  const files = await readBuild(options.root);
  const index = files.get("/index.html");
  if (index === undefined) {
    options.logger.warn({ root: options.root }, "console not built: its pages answer 503 (npm run console:build)");
  }

  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const asset = files.get(path);
    if (asset !== undefined && path !== "/index.html") {
      send(req, res, asset);
      return true;
    }
    if (path.startsWith("/assets/")) {
      sendJsonError(res, consoleErrors.assetNotFound(path));
      return true;
    }
    if (!isConsolePage(path)) return false;
    if (index === undefined) sendJsonError(res, consoleErrors.notBuilt());
    else send(req, res, index, htmlSecurityHeaders);
    return true;
  };
}

/** True for `/`, `/index.html` and the client-side routes. */
function isConsolePage(path: string): boolean {
  if (path === "/" || path === "/index.html") return true;
  const segment = path.split("/", 2)[1] ?? "";
  return consoleRouteSegments.includes(segment);
}

async function readBuild(root: string): Promise<Map<string, Asset>> {
  const files = new Map<string, Asset>();
  let names: string[];
  try {
    names = await readdir(root, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return files;
    throw err;
  }
  for (const name of names) {
    const full = join(root, name);
    let body: Buffer;
    try {
      body = await readFile(full);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EISDIR") continue;
      throw err;
    }
    const path = `/${relative(root, full).split(sep).join("/")}`;
    files.set(path, {
      body,
      contentType: contentTypes[extname(path)] ?? "application/octet-stream",
      cacheControl: path.startsWith("/assets/") ? immutable : "no-cache",
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    });
  }
  return files;
}

function send(req: HttpRequest, res: HttpResponse, asset: Asset, extra: Readonly<Record<string, string>> = {}): void {
  const headers: Record<string, string> = {
    "content-type": asset.contentType,
    "cache-control": asset.cacheControl,
    etag: asset.etag,
    "x-content-type-options": "nosniff",
    vary: "accept-encoding",
    ...extra,
  };
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const compressible = /^(text\/|application\/json|image\/svg)/.test(asset.contentType) && asset.body.length >= 1024;
  if (!compressible || !acceptsGzip(req.headers["accept-encoding"])) {
    res.writeHead(200, { ...headers, "content-length": String(asset.body.length) });
    endBody(req, res, asset.body);
    return;
  }
  asset.gzipped ??= gzipAsync(asset.body);
  asset.gzipped.then(
    (body) => {
      if (res.destroyed) return;
      res.writeHead(200, { ...headers, "content-encoding": "gzip", "content-length": String(body.length) });
      endBody(req, res, body);
    },
    (err: unknown) => failed(res, err),
  );
}

/** gzip of a buffer in memory fails only short of memory; the request is answered rather than left hanging. */
function failed(res: HttpResponse, err: unknown): void {
  sendJsonError(res, commonErrors.internal(err));
}

/** True when `gzip` is among the accepted encodings with a non-zero quality. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  return value.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
