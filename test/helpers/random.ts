// A seeded generator of numbers in [0, 1) for randomized tests: the same seed, the same
// inputs, so a failure reproduces.
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
