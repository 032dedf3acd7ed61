/**
 * What each loaded version answered since it was last reported: requests, errors and a latency
 * histogram, counted by the data plane for every request a version answered (or failed after it was
 * chosen). An inference server reports these to the registry (ReportTrafficStats), where a
 * progressive rollout compares a challenger with its champion; see registry/rollout/.
 *
 * Kept apart from the Prometheus metrics on purpose: a report needs the counts since the previous
 * report of this process, which a scrape-driven histogram does not give without keeping its own
 * copy, and the registry must not depend on every replica being scraped.
 */

/** Upper bounds of the latency buckets, ms (sent with each report; the registry merges reports on them). */
export const latencyBoundsMs: readonly number[] = [
  0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000,
];

/** What one version answered over a period. */
export interface VersionStats {
  readonly version: string;
  /** Requests answered, successfully or not. */
  readonly requests: number;
  /** Of them, failed (cancellations by the client are not counted at all). */
  readonly errors: number;
  /** Successful requests per latency bucket of {@link latencyBoundsMs}, plus one above the last bound. */
  readonly latencyCounts: readonly number[];
}

/** The counts of one version; the data plane keeps it beside the version. */
export interface VersionTally {
  /** A request answered in `latencyMs`. */
  ok(latencyMs: number): void;
  /** A request that failed once the version was chosen. */
  failed(): void;
}

/** The counts of every version of every model, taken per model by the reporter. */
export interface VersionStatsBook {
  /** The tally of a version (the same one for the same model and version). */
  tally(model: string, version: string): VersionTally;
  /**
   * What the versions of `model` answered since the last take, versions without requests left
   * out. (Tallies are kept for every version ever counted: a few hundred bytes each.)
   */
  take(model: string): VersionStats[];
}

class Tally implements VersionTally {
  requests = 0;
  errors = 0;
  counts: number[] = new Array<number>(latencyBoundsMs.length + 1).fill(0);

  ok(latencyMs: number): void {
    this.requests++;
    let i = 0;
    while (i < latencyBoundsMs.length && latencyMs > (latencyBoundsMs[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
  }

  failed(): void {
    this.requests++;
    this.errors++;
  }
}

/** Creates an empty book. */
export function createVersionStatsBook(): VersionStatsBook {
  const models = new Map<string, Map<string, Tally>>();
  return {
    tally(model, version) {
      let versions = models.get(model);
      if (versions === undefined) {
        versions = new Map();
        models.set(model, versions);
      }
      let t = versions.get(version);
      if (t === undefined) {
        t = new Tally();
        versions.set(version, t);
      }
      return t;
    },
    take(model) {
      const versions = models.get(model);
      if (versions === undefined) return [];
      const out: VersionStats[] = [];
      for (const [version, t] of versions) {
        if (t.requests === 0) continue;
        out.push({ version, requests: t.requests, errors: t.errors, latencyCounts: t.counts });
        t.requests = 0;
        t.errors = 0;
        t.counts = new Array<number>(latencyBoundsMs.length + 1).fill(0);
      }
      return out;
    },
  };
}
