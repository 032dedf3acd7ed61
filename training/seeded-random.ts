/**
 * A deterministic pseudo-random generator (mulberry32, 32-bit state): the same seed gives the same
 * sequence on every machine, so a training run is reproducible. Not for anything security related.
 * Returns a function yielding floats in [0, 1).
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
