import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, {
  type Http2ServerRequest,
  type Http2ServerResponse,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "../../core/logger.js";
import { type TlsFiles, watchTlsFiles } from "./tls-files.js";

/**
 * A request handler both HTTP versions call: Node's http.RequestListener and its http2
 * compatibility-API equivalent (what connectNodeAdapter returns).
 */
export type DualProtocolHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/** Options of {@link listenDualProtocol}. */
export interface DualProtocolServerOptions {
  /** Serves every request of either HTTP version. */
  readonly handler: DualProtocolHandler;
  /**
   * Sees every HTTP/2 stream before `handler`: returning true means it serves the stream itself on
   * Node's stream API (gateway/inference/grpc-fast-path.ts), false passes it on to `handler`.
   */
  readonly streamRoute?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;
  /** Interface to bind, e.g. "0.0.0.0" or "127.0.0.1". */
  readonly host: string;
  /** TCP port; 0 picks a free ephemeral port. */
  readonly port: number;
  readonly logger: Logger;
  /**
   * Milliseconds a new connection may take to send enough bytes to tell HTTP/1.1 from the HTTP/2
   * preface (at most 24) before it is closed. Default 10 s.
   */
  readonly firstBytesTimeoutMs?: number;
  /** Milliseconds an HTTP/1.1 client may take to send a request's headers (408 after). Default 60 s. */
  readonly headersTimeoutMs?: number;
  /**
   * Milliseconds an HTTP/1.1 client may take to send a whole request, headers and body (408
   * after; the headers bound is then at most this). Default 0: no bound, for servers that take
   * long uploads, whose stalls the idle timeout bounds.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Milliseconds without any traffic after which a connection is closed (HTTP/1.1 socket or
   * HTTP/2 session). It bounds stalled uploads without capping the duration of a large one.
   * Default 5 min.
   */
  readonly idleTimeoutMs?: number;
  /** Milliseconds an idle HTTP/1.1 keep-alive connection stays open. Default 65 s (above common 60 s proxy idle timeouts). */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Serve TLS instead of cleartext: HTTP/2 and HTTP/1.1 told apart by ALPN, the certificate reloaded
   * when its files change, and client certificates required when `clientCaFile` is set. Undefined
   * (default): the cleartext listener that sniffs the HTTP/2 preface.
   */
  readonly tls?: TlsFiles | undefined;
}

/** A listening dual-protocol server. */
export interface DualProtocolServer {
  /** The bound port (the ephemeral one when 0 was asked for). */
  readonly port: number;
  /** Base URL for clients, e.g. `http://127.0.0.1:5000` (a wildcard host is shown as 127.0.0.1). */
  readonly url: string;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs` (default
   * 10 s; HTTP/2 sessions get a GOAWAY, idle HTTP/1.1 connections are closed at once), then
   * destroys whatever is left. Resolves when every connection is closed. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

/** How often a closing server looks for HTTP/1.1 keep-alive sockets that became idle, ms. */
const idleSweepMs = 20;

/** HTTP/2 receive window of each stream (the client may send this much before a WINDOW_UPDATE). */
const streamWindowBytes = 1024 * 1024;
/** HTTP/2 receive window of a whole connection, across its streams. */
const sessionWindowBytes = 16 * 1024 * 1024;

/**
 * The connection preface every HTTP/2 client sends first (RFC 9113 section 3.4). gRPC clients
 * use HTTP/2 over cleartext with prior knowledge (h2c), so the preface is how they are told
 * apart from HTTP/1.1 clients (curl, fetch, Python urllib) on the same port.
 */
const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * Listens on one TCP port for HTTP/1.1 and cleartext HTTP/2 (prior knowledge) at once: each new
 * connection's first bytes are compared with the HTTP/2 preface, then the socket is handed to an
 * http2 server or an http server, both calling `handler`. Anything that is not the preface goes to
 * the HTTP/1.1 parser, which answers garbage with 400 and closes.
 */
export async function listenDualProtocol(options: DualProtocolServerOptions): Promise<DualProtocolServer> {
  if (options.tls !== undefined) return listenTls(options, options.tls);
  const { handler, logger } = options;
  const firstBytesTimeoutMs = options.firstBytesTimeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 5 * 60_000;

  const requestTimeoutMs = options.requestTimeoutMs ?? 0;
  const headersTimeoutMs = Math.min(options.headersTimeoutMs ?? 60_000, requestTimeoutMs || Number.POSITIVE_INFINITY);
  const h1 = http.createServer({
    headersTimeout: headersTimeoutMs,
    // How often Node checks the headers and request timeouts (default 30 s, too coarse).
    connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
  });
  h1.timeout = idleTimeoutMs;
  // Node starts the headers-timeout checker of an http.Server when it emits "listening". This one
  // never listens itself (sockets are handed to it), so it is started the same way by hand.
  h1.emit("listening");

  const h2 = http2.createServer({
    // Large artifact chunks in flight on several streams must not trip the default 10 MB cap
    // (which answers ENHANCE_YOUR_CALM).
    maxSessionMemory: 64,
    // Receive windows: HTTP/2's 64 KiB defaults let a client have only four 16 KiB PredictBatch
    // requests on the wire before it waits a round trip for a WINDOW_UPDATE.
    settings: { initialWindowSize: streamWindowBytes },
  });
  h2.setTimeout(idleTimeoutMs);

  const sockets = new Set<Socket>();
  /** Sockets already handed to one of the HTTP servers. */
  const routed = new WeakSet<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  let closing: Promise<void> | undefined;

  // Nothing is tracked per request (this is the hot path of JSON /predict): on shutdown, Node's own
  // connection list tells idle keep-alive sockets from busy ones (closeIdleConnections).
  h1.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (closing !== undefined) res.shouldKeepAlive = false;
    handler(req, res);
  });
  h1.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // What Node does without a listener, plus a debug line.
    logger.debug({ err }, "malformed or stalled HTTP/1.1 request");
    if (socket.writable && socket.bytesWritten === 0) {
      const status =
        err.code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? "408 Request Timeout"
            : "400 Bad Request";
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });

  h2.on("request", (req: Http2ServerRequest, res: Http2ServerResponse) => handler(req, res));
  routeStreamsFirst(h2, options.streamRoute);
  trackSessions(h2, sessions, () => closing !== undefined, logger);

  const tcp = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", (err) => logger.debug({ err }, "connection error"));
    if (closing !== undefined) {
      socket.destroy();
      return;
    }
    routeConnection(socket, firstBytesTimeoutMs, (isHttp2) => {
      routed.add(socket);
      (isHttp2 ? h2 : h1).emit("connection", socket);
    });
  });

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(options.port, options.host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  tcp.on("error", (err) => logger.error({ err }, "listener error"));
  const port = (tcp.address() as AddressInfo).port;

  const close = (graceMs = 10_000): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      // Idle keep-alive sockets close now; busy ones as soon as their response is done (requests
      // that arrive meanwhile are answered with Connection: close).
      h1.closeIdleConnections();
      const sweep = setInterval(() => h1.closeIdleConnections(), idleSweepMs);
      for (const session of sessions) session.close();
      // Sockets still deciding their protocol have sent no request yet.
      for (const socket of sockets) if (!routed.has(socket)) socket.destroy();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
      clearInterval(sweep);
      h1.close();
      h1.closeAllConnections();
      h2.close();
    })();
    return closing;
  };

  return { port, url: `http://${urlHost(options.host)}:${port}`, close };
}

/**
 * The TLS listener kind: one `http2.createSecureServer` with `allowHTTP1`, where ALPN does what
 * the preface sniffing does in cleartext (h2 for gRPC and HTTP/2 clients, http/1.1 for the rest).
 * HTTP/1.1 connections are parsed by Node's http code inside the same server, so the HTTP/1.1
 * headers and request timeouts of the cleartext kind do not apply here; the idle timeout does.
 */
async function listenTls(options: DualProtocolServerOptions, files: TlsFiles): Promise<DualProtocolServer> {
  const { handler, logger } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? 5 * 60_000;
  const watcher = watchTlsFiles(files, logger);
  const mutual = files.clientCaFile !== undefined;
  const server = http2.createSecureServer({
    ...watcher.current,
    allowHTTP1: true,
    // mTLS: a client without a certificate signed by the client CA fails the handshake.
    requestCert: mutual,
    rejectUnauthorized: mutual,
    maxSessionMemory: 64,
    settings: { initialWindowSize: streamWindowBytes },
  });
  server.setTimeout(idleTimeoutMs);
  watcher.onChange((context) => server.setSecureContext(context));

  const sockets = new Set<TLSSocket>();
  /** Requests in progress per HTTP/1.1 socket, to close the idle ones first on shutdown. */
  const busy = new Map<Socket, number>();
  const sessions = new Set<ServerHttp2Session>();
  let closing: Promise<void> | undefined;
  const closeIdleHttp1 = () => {
    for (const socket of sockets) if (socket.alpnProtocol !== "h2" && (busy.get(socket) ?? 0) === 0) socket.destroy();
  };

  server.on("request", (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    if (req.httpVersionMajor === 1) {
      const socket = req.socket;
      busy.set(socket, (busy.get(socket) ?? 0) + 1);
      res.once("close", () => {
        const left = (busy.get(socket) ?? 1) - 1;
        if (left === 0) busy.delete(socket);
        else busy.set(socket, left);
        if (closing !== undefined && left === 0) socket.destroy();
      });
      if (closing !== undefined) (res as ServerResponse).shouldKeepAlive = false;
    }
    handler(req, res);
  });
  routeStreamsFirst(server, options.streamRoute);
  trackSessions(server, sessions, () => closing !== undefined, logger);
  server.on("secureConnection", (socket: TLSSocket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (closing !== undefined) socket.destroy();
  });
  // Handshake failures (no or untrusted client certificate, plain HTTP on the TLS port) are the
  // client's problem: a debug line, the connection is closed by Node.
  server.on("tlsClientError", (err: Error) => logger.debug({ err }, "TLS handshake failed"));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((err: unknown) => {
    watcher.close();
    throw err;
  });
  server.on("error", (err) => logger.error({ err }, "listener error"));
  const port = (server.address() as AddressInfo).port;

  const close = (graceMs = 10_000): Promise<void> => {
    closing ??= (async () => {
      watcher.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      closeIdleHttp1();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    })();
    return closing;
  };

  return { port, url: `https://${urlHost(options.host)}:${port}`, close };
}

/**
 * Serves HTTP/2 streams through `streamRoute` first (the gRPC fast path). Adding the "request"
 * listener made Node install its compatibility layer as a "stream" listener; it is moved behind
 * the route so that a stream served there never gets a request/response pair.
 */
function routeStreamsFirst(
  server: http2.Http2Server | http2.Http2SecureServer,
  streamRoute: DualProtocolServerOptions["streamRoute"],
): void {
  if (streamRoute === undefined) return;
  const compat = server.listeners("stream") as ((...args: unknown[]) => void)[];
  server.removeAllListeners("stream");
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => {
    if (streamRoute(stream, headers)) return;
    for (const listener of compat) listener.call(server, stream, headers, ...rest);
  });
}

/** Keeps the open HTTP/2 sessions (each with the larger window) for shutdown; one opened while closing is closed. */
function trackSessions(
  server: http2.Http2Server | http2.Http2SecureServer,
  sessions: Set<ServerHttp2Session>,
  isClosing: () => boolean,
  logger: Logger,
): void {
  server.on("session", (session: ServerHttp2Session) => {
    session.setLocalWindowSize(sessionWindowBytes);
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (isClosing()) session.close();
  });
  server.on("sessionError", (err: Error) => logger.debug({ err }, "HTTP/2 session error"));
}

/**
 * Reads the first bytes of a connection until they either differ from the HTTP/2 preface or match
 * it whole, puts them back, and calls `handOff` with the verdict. A connection that sends too
 * little within `timeoutMs` is destroyed.
 */
function routeConnection(socket: Socket, timeoutMs: number, handOff: (isHttp2: boolean) => void): void {
  let buffered = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const cleanup = () => {
    clearTimeout(timer);
    socket.off("readable", onReadable);
    socket.off("close", cleanup);
  };
  const onReadable = () => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
      buffered = Buffer.concat([buffered, chunk]);
    }
    const n = Math.min(buffered.length, http2Preface.length);
    const isPrefix = buffered.subarray(0, n).equals(http2Preface.subarray(0, n));
    if (isPrefix && buffered.length < http2Preface.length) return;
    cleanup();
    // Put the bytes back for the chosen parser. The HTTP/2 session reads what is buffered on the
    // next tick (it feeds the socket's readable buffer to nghttp2 before consuming the handle);
    // the HTTP/1.1 parser takes it through its "data" listener once the socket flows again.
    socket.unshift(buffered);
    handOff(isPrefix);
    if (!isPrefix) socket.resume();
  };
  socket.on("readable", onReadable);
  socket.once("close", cleanup);
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
