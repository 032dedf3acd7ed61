/**
 * Programs some tests need that npm cannot install (kubectl, python3, wrk, promtool, chromium, ...).
 * On a developer's machine a missing one skips the tests that need it, with a reason naming the
 * install command; CI (`.ci/run`) installs them all and sets `MLPIPE_REQUIRE_SYSTEM_TOOLS=1`, which
 * turns a missing program into a failure, so a test can never be skipped there by accident.
 */
import { spawnSync } from "node:child_process";
import { describe } from "vitest";

/** A program a test suite needs: how to find it and where it comes from. */
export interface SystemTool {
  /** Executable name (looked up on PATH) or absolute path. */
  readonly command: string;
  /** Arguments of a cheap probe that exits 0 when the program works, e.g. ["--version"]. */
  readonly probeArgs: readonly string[];
  /** How to install it, for the skip reason, e.g. "apt-get install prometheus". */
  readonly install: string;
  /** Exit codes of the probe that still mean "installed" (some tools exit 1 on --version). Default [0]. */
  readonly okCodes?: readonly number[];
}

/** Whether CI asked for every system tool to be present (`MLPIPE_REQUIRE_SYSTEM_TOOLS=1`). */
export const systemToolsRequired = process.env.MLPIPE_REQUIRE_SYSTEM_TOOLS === "1";

const found = new Map<string, boolean>();

/** True when `tool` runs here (probed once per process). */
export function hasSystemTool(tool: SystemTool): boolean {
  let ok = found.get(tool.command);
  if (ok === undefined) {
    const probe = spawnSync(tool.command, [...tool.probeArgs], { stdio: "ignore", timeout: 30_000 });
    ok = probe.error === undefined && (tool.okCodes ?? [0]).includes(probe.status ?? -1);
    found.set(tool.command, ok);
  }
  return ok;
}

/**
 * `describe` for a suite that needs `tools`: skipped (its title says how to install what is missing) when
 * one is absent, unless CI requires them, in which case the suite fails at collection.
 */
export function describeWithTools(title: string, tools: readonly SystemTool[], body: () => void): void {
  const missing = tools.filter((t) => !hasSystemTool(t));
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const hints = missing.map((t) => t.install).join("; ");
  if (systemToolsRequired) {
    throw new Error(`${title}: missing ${missing.map((t) => t.command).join(", ")} (${hints})`);
  }
  describe.skip(`${title} (skipped: ${hints})`, body);
}

/** kubectl, with its built-in kustomize. */
export const kubectlTool: SystemTool = {
  command: "kubectl",
  probeArgs: ["version", "--client"],
  install: "kubectl 1.14+ with built-in kustomize",
};
/** python3 (the Python examples). */
export const python3Tool: SystemTool = {
  command: "python3",
  probeArgs: ["--version"],
  install: "apt-get install python3",
};
/**
 * The distribution's python3 with grpcio and grpc_tools (Debian's python3-grpcio and
 * python3-grpc-tools): the Python gRPC client tests. By absolute path, so that a python3 of
 * another installation earlier on PATH (pyenv) does not hide it.
 */
export const pythonGrpcTool: SystemTool = {
  command: "/usr/bin/python3",
  probeArgs: ["-c", "import grpc, grpc_tools.protoc"],
  install: "apt-get install python3-grpcio python3-grpc-tools",
};
/** wrk, the HTTP load generator of the benchmarks; `wrk --version` exits 1 after printing its version. */
export const wrkTool: SystemTool = {
  command: "wrk",
  probeArgs: ["--version"],
  install: "apt-get install wrk",
  okCodes: [0, 1],
};
/** promtool, Prometheus's rule checker and rule unit-test runner (Debian package `prometheus`). */
export const promtoolTool: SystemTool = {
  command: "promtool",
  probeArgs: ["--version"],
  install: "apt-get install prometheus",
};
/** The Prometheus server (Debian package `prometheus`), for tests that scrape a live mlpipe. */
export const prometheusTool: SystemTool = {
  command: "prometheus",
  probeArgs: ["--version"],
  install: "apt-get install prometheus",
};
/** Docker Compose v1 (`docker-compose`; Debian package `docker-compose`), to resolve compose files. */
export const dockerComposeTool: SystemTool = {
  command: "docker-compose",
  probeArgs: ["version"],
  install: "apt-get install docker-compose",
};
