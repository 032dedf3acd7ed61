import { readdir, readFile } from "node:fs/promises";

const clockTicksPerSecond = 100;

/**
 * CPU seconds (user + system) a process has used so far, read from /proc/<pid>/stat (Linux).
 * Undefined where /proc is missing. Used to report the CPU cost of the server and the generator.
 */
export async function processCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS); undefined where missing. */
export async function processRssBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** The process and all its descendants (from /proc/<pid>/task/<tid>/children); just `pid` where that is missing. */
export async function processTree(pid: number): Promise<number[]> {
  const out = [pid];
  try {
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      const text = await readFile(`/proc/${pid}/task/${tid}/children`, "utf8").catch(() => "");
      for (const child of text.trim().split(/\s+/).filter(Boolean)) out.push(...(await processTree(Number(child))));
    }
  } catch {
    // no /proc: the process alone
  }
  return out;
}

/**
 * CPU seconds of a process and its descendants (uvicorn's worker processes, for one). Children
 * that exited are not counted, so read it while the processes run.
 */
export async function processTreeCpuSeconds(pid: number): Promise<number | undefined> {
  const values = await Promise.all((await processTree(pid)).map(processCpuSeconds));
  return values[0] === undefined ? undefined : values.reduce<number>((a, b) => a + (b ?? 0), 0);
}

/** Resident memory of a process and its descendants, in bytes (shared pages counted in each). */
export async function processTreeRssBytes(pid: number): Promise<number | undefined> {
  const values = await Promise.all((await processTree(pid)).map(processRssBytes));
  return values[0] === undefined ? undefined : values.reduce<number>((a, b) => a + (b ?? 0), 0);
}
