/**
 * Seeded randomness for the whole library: a small PRNG (mulberry32, by
 * Tommy Ettinger), standard normal draws by the Box–Muller transform, and
 * Fisher–Yates shuffling and sampling.
 *
 * A random source is a plain function `() => number` returning uniform
 * floats in [0, 1). Every function that draws takes one, so that a result
 * is rebuilt exactly from its seed; no function here reads `Math.random`.
 */

import { ConfigError } from "./errors.js";

/** A source of uniform floats in [0, 1). */
export type Random = () => number;

/**
 * The mulberry32 generator: 32 bits of state, a period of 2^32, and the
 * same sequence on every platform. `seed` is reduced to an unsigned 32-bit
 * integer (`seed >>> 0`), so seeds that agree modulo 2^32 give the same
 * stream.
 */
export function mulberry32(seed: number): Random {
  if (!Number.isFinite(seed)) {
    throw new ConfigError(`mulberry32: seed must be finite, got ${seed}`);
  }
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The randomness options that drawing functions of mpcl accept. */
export interface RandomOptions {
  /** Seed of a fresh {@link mulberry32} stream (default 0). */
  seed?: number;
  /** A random source to draw from instead; it wins over `seed`. */
  random?: Random;
}

/**
 * The random source that `options` ask for: `options.random` if given,
 * otherwise `mulberry32(options.seed ?? 0)`.
 */
export function resolveRandom(options: RandomOptions = {}): Random {
  return options.random ?? mulberry32(options.seed ?? 0);
}

/**
 * One standard normal draw N(0, 1) by the Box–Muller transform,
 * `z = sqrt(-2 ln u1) · cos(2π u2)`, with `u1 = 1 - random()` in (0, 1].
 * Each call consumes exactly two uniforms (the sine twin is discarded), so
 * the stream position after k draws is always 2k.
 */
export function randomNormal(random: Random): number {
  const u1 = 1 - random();
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A uniform integer in `[0, n)`; `n` must be a positive integer. */
export function randomInt(random: Random, n: number): number {
  if (!Number.isInteger(n) || n <= 0) {
    throw new ConfigError(`randomInt: n must be a positive integer, got ${n}`);
  }
  return Math.min(n - 1, Math.floor(random() * n));
}

/**
 * Shuffle `array` in place by Fisher–Yates (Durstenfeld's version: for
 * i from the end down, swap i with a uniform j ≤ i) and return it. Every
 * permutation is equally likely when `random` is uniform.
 */
export function shuffle<T, A extends { length: number; [i: number]: T }>(
  array: A,
  random: Random,
): A {
  for (let i = array.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const t = array[i];
    array[i] = array[j];
    array[j] = t;
  }
  return array;
}

/**
 * `k` distinct integers drawn uniformly from `[0, n)`, in the order drawn
 * (so every ordered k-tuple is equally likely). A partial Fisher–Yates
 * over a virtual array: O(k) time and memory, whatever `n`.
 * Raises `ConfigError` unless `0 ≤ k ≤ n` are integers.
 */
export function sampleWithoutReplacement(
  n: number,
  k: number,
  random: Random,
): Int32Array {
  const fn = "sampleWithoutReplacement";
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new ConfigError(`${fn}: n must be a non-negative integer, got ${n}`);
  }
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ConfigError(
      `${fn}: k must be an integer in [0, n = ${n}], got ${k}`,
    );
  }

  // NOTE: `moved` holds the entries of the virtual array [0, n) that a
  // swap has changed; every other position i still holds i
  const moved = new Map<number, number>();
  const out = new Int32Array(k);
  for (let t = 0; t < k; t++) {
    const j = t + randomInt(random, n - t);
    const vj = moved.get(j) ?? j;
    out[t] = vj;
    moved.set(j, moved.get(t) ?? t);
  }
  return out;
}
