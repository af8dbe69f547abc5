/**
 * Seeded randomness for tests: a small PRNG (mulberry32) and helpers that
 * draw integers, floats and random graphs from it, so that every test
 * input can be rebuilt from its seed.
 */

import { mulberry32 as libraryMulberry32 } from "../../src/random.js";

/** A seeded generator of uniform floats in [0, 1). */
export type Rng = () => number;

/** The mulberry32 generator: the library's own, same stream. */
export const mulberry32: (seed: number) => Rng = libraryMulberry32;

/** A uniform integer in `[lo, hi)`. */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo));
}

/** Options of {@link randomEdges}. */
export interface RandomEdgesOptions {
  /** Number of nodes. */
  numNodes: number;
  /** Number of directed edges to draw (duplicates and loops allowed). */
  numEdges: number;
  /**
   * Whether to draw weights: uniform in (0, 4), rounded to a multiple of
   * 1/8 so that float32 storage is exact. Default true.
   */
  weighted?: boolean;
}

/** Random COO edges `{ src, dst, weights }` drawn from `rng`. */
export function randomEdges(
  rng: Rng,
  options: RandomEdgesOptions,
): { src: number[]; dst: number[]; weights: number[] | null } {
  const { numNodes, numEdges } = options;
  const weighted = options.weighted ?? true;
  const src: number[] = [];
  const dst: number[] = [];
  const weights: number[] = [];
  for (let e = 0; e < numEdges; e++) {
    src.push(randInt(rng, 0, numNodes));
    dst.push(randInt(rng, 0, numNodes));
    weights.push((1 + randInt(rng, 0, 31)) / 8);
  }
  return { src, dst, weights: weighted ? weights : null };
}
