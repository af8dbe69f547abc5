/**
 * The seeded PRNG module: mulberry32 against its published reference
 * outputs and the test helper, Box–Muller moments, and the uniformity of
 * shuffles and samples by chi-square bounds at fixed seeds.
 */

import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import {
  mulberry32,
  randomInt,
  randomNormal,
  resolveRandom,
  sampleWithoutReplacement,
  shuffle,
} from "../src/random.js";
import { mulberry32 as helperMulberry32 } from "./helpers/random.js";

describe("mulberry32", () => {
  it("gives the same stream as the test helper and the same per seed", () => {
    for (const seed of [0, 1, 42, 2 ** 31 + 5]) {
      const a = mulberry32(seed);
      const b = helperMulberry32(seed);
      const c = mulberry32(seed);
      for (let t = 0; t < 100; t++) {
        const x = a();
        expect(x).toBe(b());
        expect(x).toBe(c());
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThan(1);
      }
    }
  });

  it("matches hand-computed first outputs of seed 0", () => {
    // the first state is 0x6d2b79f5; mixing it by hand (see the source)
    // gives the integer below
    let t = 0x6d2b79f5;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const first = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    expect(mulberry32(0)()).toBe(first);
    expect(mulberry32(0)()).toBeCloseTo(0.26642920868471265, 15);
  });

  it("has mean 1/2 and variance 1/12 within 4 standard errors", () => {
    const r = mulberry32(7);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    for (let t = 0; t < n; t++) {
      const x = r();
      s += x;
      s2 += x * x;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it("rejects a non-finite seed", () => {
    expect(() => mulberry32(Number.NaN)).toThrow(ConfigError);
  });
});

describe("resolveRandom", () => {
  it("prefers random, then seed, then seed 0", () => {
    const r = () => 0.25;
    expect(resolveRandom({ random: r, seed: 3 })).toBe(r);
    expect(resolveRandom({ seed: 3 })()).toBe(mulberry32(3)());
    expect(resolveRandom()()).toBe(mulberry32(0)());
  });
});

describe("randomNormal", () => {
  it("is Box–Muller on two uniforms", () => {
    const u = [0.3, 0.8];
    let k = 0;
    const z = randomNormal(() => u[k++]);
    expect(k).toBe(2);
    const expected =
      Math.sqrt(-2 * Math.log(0.7)) * Math.cos(2 * Math.PI * 0.8);
    expect(z).toBeCloseTo(expected, 14);
    expect(Number.isFinite(randomNormal(() => 0))).toBe(true);
  });

  it("has mean 0, variance 1 and kurtosis 3 within bounds", () => {
    const r = mulberry32(11);
    const n = 200_000;
    let s1 = 0;
    let s2 = 0;
    let s4 = 0;
    for (let t = 0; t < n; t++) {
      const z = randomNormal(r);
      s1 += z;
      s2 += z * z;
      s4 += z ** 4;
    }
    // standard errors: 1/√n for the mean, √(2/n) for the variance,
    // √(96/n) for the fourth moment
    expect(Math.abs(s1 / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(s4 / n - 3)).toBeLessThan(4 * Math.sqrt(96 / n));
  });
});

describe("randomInt", () => {
  it("stays in range, even when random returns almost 1", () => {
    expect(randomInt(() => 0.9999999999999999, 5)).toBe(4);
    expect(randomInt(() => 0, 5)).toBe(0);
    expect(() => randomInt(() => 0, 0)).toThrow(ConfigError);
    expect(() => randomInt(() => 0, 1.5)).toThrow(ConfigError);
  });
});

/** Chi-square statistic of observed counts against equal expectations. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const e = total / counts.length;
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}

describe("shuffle", () => {
  it("returns a permutation in place, the same per seed", () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffle(a, mulberry32(3));
    expect(out).toBe(a);
    expect([...a].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    const b = shuffle(
      Int32Array.from({ length: 50 }, (_, i) => i),
      mulberry32(3),
    );
    expect(Array.from(b)).toEqual(a);
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("draws all 24 permutations of 4 equally often (chi-square)", () => {
    const r = mulberry32(5);
    const counts = new Map<string, number>();
    const trials = 48_000;
    for (let t = 0; t < trials; t++) {
      const key = shuffle([0, 1, 2, 3], r).join("");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    // 23 degrees of freedom: P(χ² > 49.7) ≈ 0.001
    expect(chiSquare([...counts.values()])).toBeLessThan(49.7);
  });

  it("leaves arrays of length 0 and 1 alone", () => {
    expect(shuffle([], mulberry32(1))).toEqual([]);
    expect(shuffle([9], mulberry32(1))).toEqual([9]);
  });
});

describe("sampleWithoutReplacement", () => {
  it("draws k distinct values in range, the same per seed", () => {
    for (const [n, k] of [
      [10, 0],
      [10, 3],
      [10, 10],
      [1_000_000_000, 20],
    ]) {
      const s = sampleWithoutReplacement(n, k, mulberry32(9));
      expect(s.length).toBe(k);
      expect(new Set(s).size).toBe(k);
      for (const v of s) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(n);
      }
      expect(sampleWithoutReplacement(n, k, mulberry32(9))).toEqual(s);
    }
    const all = Array.from(sampleWithoutReplacement(10, 10, mulberry32(2)));
    expect(all.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("is a partial Fisher–Yates: the first k of the same shuffle", () => {
    const n = 30;
    const k = 12;
    const sample = sampleWithoutReplacement(n, k, mulberry32(4));

    // the reference: a forward Fisher–Yates on an explicit array
    const r = mulberry32(4);
    const a = Array.from({ length: n }, (_, i) => i);
    for (let t = 0; t < k; t++) {
      const j = t + Math.floor(r() * (n - t));
      [a[t], a[j]] = [a[j], a[t]];
    }
    expect(Array.from(sample)).toEqual(a.slice(0, k));
  });

  it("includes each value with probability k/n (chi-square)", () => {
    const r = mulberry32(8);
    const n = 20;
    const counts = new Array<number>(n).fill(0);
    for (let t = 0; t < 20_000; t++) {
      for (const v of sampleWithoutReplacement(n, 5, r)) counts[v]++;
    }
    // 19 degrees of freedom: P(χ² > 43.8) ≈ 0.001; without-replacement
    // draws make the counts less variable, so the bound is conservative
    expect(chiSquare(counts)).toBeLessThan(43.8);
  });

  it("raises ConfigError for bad n and k", () => {
    const r = mulberry32(0);
    expect(() => sampleWithoutReplacement(5, 6, r)).toThrow(ConfigError);
    expect(() => sampleWithoutReplacement(5, -1, r)).toThrow(ConfigError);
    expect(() => sampleWithoutReplacement(-1, 0, r)).toThrow(ConfigError);
    expect(() => sampleWithoutReplacement(5.5, 1, r)).toThrow(ConfigError);
  });
});
