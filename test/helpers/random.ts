// A seeded generator of numbers in [0, 1) for randomized tests: the same seed, the same
// inputs, so a failure reproduces.
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `base` with one to three random edits (replace, delete or insert a character of `alphabet`). */
export function mutated(base: string, alphabet: string, next: () => number): string {
  const chars = [...base];
  for (let e = 0, edits = 1 + Math.floor(next() * 3); e < edits; e++) {
    const at = Math.floor(next() * chars.length);
    const kind = next();
    const c = alphabet[Math.floor(next() * alphabet.length)]!;
    if (kind < 0.4) chars[at] = c;
    else if (kind < 0.7) chars.splice(at, 1);
    else chars.splice(at, 0, c);
  }
  return chars.join('');
}
