/**
 * The CPU priority of the calling thread, for work that must never take a core from serving (the
 * shadow thread that runs mirrored requests). Linux keeps a nice value per thread: setpriority
 * with PRIO_PROCESS and a thread id changes that thread alone, and the threads it starts later
 * (onnxruntime's intra-op pool) inherit it. Raising one's own nice value needs no privilege.
 */
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The highest nice value: the scheduler runs such a thread only on cores nothing else wants. */
export const lowestPriority = 19;

/** The calling thread's id (Linux: /proc/thread-self links to <pid>/task/<tid>); undefined elsewhere. */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets the calling thread's nice value (-20..19; higher runs less); returns the value in force
 * afterwards, or undefined where threads have no priority of their own (not Linux) or it cannot
 * be read.
 */
export function setThreadNiceness(niceness: number): number | undefined {
  const tid = currentThreadId();
  if (tid === undefined) return undefined;
  try {
    setPriority(tid, niceness);
  } catch {
    // Lowering the nice value needs CAP_SYS_NICE; the thread keeps what it had.
  }
  try {
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
