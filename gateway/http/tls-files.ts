import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { Logger } from "../../core/logger.js";

/** The PEM files of a TLS listener (README "Security", TLS_CERT_FILE and friends). */
export interface TlsFiles {
  /** Server certificate chain, PEM (TLS_CERT_FILE). */
  readonly certFile: string;
  /** Private key of the certificate, PEM (TLS_KEY_FILE). */
  readonly keyFile: string;
  /** CA bundle, PEM, that client certificates must chain to (TLS_CLIENT_CA_FILE); undefined: no mTLS. */
  readonly clientCaFile?: string | undefined;
  /** How often the files' modification times are checked, ms. Default 2000. */
  readonly reloadIntervalMs?: number;
}

/** The current secure context of a {@link TlsFiles} set, kept up to date with the files. */
export interface TlsFilesWatcher {
  /** The key material read at start (the first certificate the server presents). */
  readonly current: SecureContextOptions;
  /** Called with each new valid set read after a file changed. */
  onChange(listener: (context: SecureContextOptions) => void): void;
  /** Stops watching. Idempotent. */
  close(): void;
}

/** Quiet time after a change before the files are read: a renewal writes cert and key one after the other. */
const debounceMs = 200;

/**
 * Reads the files once (throwing, so that a server does not start with a bad pair) and then polls
 * their modification times (`fs.watchFile`: it sees Kubernetes' symlink swaps of a mounted Secret,
 * which `fs.watch` on the file misses). A changed set that does not make a valid context (a key
 * that does not match the certificate, a half-written file) is logged and the old one kept.
 */
export function watchTlsFiles(files: TlsFiles, logger: Logger): TlsFilesWatcher {
  const current = readContext(files);
  const listeners: ((context: SecureContextOptions) => void)[] = [];
  const paths = [files.certFile, files.keyFile, ...(files.clientCaFile === undefined ? [] : [files.clientCaFile])];
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    timer = undefined;
    let next: SecureContextOptions;
    try {
      next = readContext(files);
    } catch (err) {
      logger.error(
        { err, certFile: files.certFile, keyFile: files.keyFile },
        "TLS files changed but are not usable; keeping the previous certificate",
      );
      return;
    }
    for (const listener of listeners) listener(next);
    logger.info({ certFile: files.certFile }, "TLS certificate reloaded");
  };
  const onStat = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
    timer.unref();
  };
  const interval = files.reloadIntervalMs ?? 2000;
  for (const path of paths) watchFile(path, { interval, persistent: false }, onStat);
  let closed = false;
  return {
    current,
    onChange: (listener) => listeners.push(listener),
    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const path of paths) unwatchFile(path, onStat);
    },
  };
}

/** Reads the PEM files and checks that they make a context (the key matches the certificate). */
function readContext(files: TlsFiles): SecureContextOptions {
  const context: SecureContextOptions = {
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    ...(files.clientCaFile === undefined ? {} : { ca: readFileSync(files.clientCaFile) }),
  };
  createSecureContext(context);
  return context;
}
