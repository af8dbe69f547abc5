import { describe, expect, it } from "vitest";
import { ConfigError, ShapeError } from "../../src/errors.js";
import {
  adjustedRandIndex,
  normalizedMutualInfo,
} from "../../src/eval/clustering.js";
import { seededRandom } from "../spectral/helpers.js";

/** ARI by counting every pair of items (O(N²)), the textbook route. */
function pairCountARI(a: number[], b: number[]): number {
  let together = 0;
  let togetherA = 0;
  let togetherB = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const sa = a[i] === a[j];
      const sb = b[i] === b[j];
      if (sa && sb) together++;
      if (sa) togetherA++;
      if (sb) togetherB++;
      pairs++;
    }
  }
  const expected = (togetherA * togetherB) / pairs;
  return (together - expected) / ((togetherA + togetherB) / 2 - expected);
}

/** NMI from joint probabilities written out as sums. */
function directNMI(a: number[], b: number[]): number {
  const n = a.length;
  const pa = new Map<number, number>();
  const pb = new Map<number, number>();
  const pab = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    pa.set(a[i], (pa.get(a[i]) ?? 0) + 1 / n);
    pb.set(b[i], (pb.get(b[i]) ?? 0) + 1 / n);
    const key = `${a[i]} ${b[i]}`;
    pab.set(key, (pab.get(key) ?? 0) + 1 / n);
  }
  let mi = 0;
  for (const [key, p] of pab) {
    const [x, y] = key.split(" ").map(Number);
    mi += p * Math.log(p / ((pa.get(x) as number) * (pb.get(y) as number)));
  }
  const h = (m: Map<number, number>) =>
    [...m.values()].reduce((s, p) => s - p * Math.log(p), 0);
  return mi / ((h(pa) + h(pb)) / 2);
}

// Manning, Raghavan & Schütze, "Introduction to Information Retrieval",
// §16.3, Figure 16.4: three clusters of 17 points in classes x, o, ◇
// (0, 1, 2); the book gives NMI ≈ 0.36 and RI ≈ 0.68
const bookClusters = [
  ...Array(6).fill(0),
  ...Array(6).fill(1),
  ...Array(5).fill(2),
];
const bookClasses = [
  ...[0, 0, 0, 0, 0, 1],
  ...[0, 1, 1, 1, 1, 2],
  ...[0, 0, 2, 2, 2],
];

describe("normalizedMutualInfo", () => {
  it("gives the textbook value and 0.8 for a refinement", () => {
    const nmi = normalizedMutualInfo(bookClusters, bookClasses);
    expect(nmi).toBeCloseTo(directNMI(bookClusters, bookClasses), 14);
    expect(nmi).toBeCloseTo(0.36, 2);

    // [0,0,1,1] against [0,0,1,2]: I = ln 2, H = ln 2 and 1.5 ln 2
    expect(normalizedMutualInfo([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(
      0.8,
      15,
    );
  });

  it("is 1 for labelings equal up to renaming", () => {
    const a = [3, 3, 1, 1, 7, 7, 7];
    const b = [0, 0, 5, 5, 2, 2, 2];
    expect(normalizedMutualInfo(a, b)).toBe(1);
    expect(normalizedMutualInfo([4, 4, 4], [1, 1, 1])).toBe(1);
  });

  it("is near 0 for independent labelings and 0 for trivial ones", () => {
    const rand = seededRandom(81);
    const n = 20000;
    const a = Array.from({ length: n }, () => Math.floor(rand() * 5));
    const b = Array.from({ length: n }, () => Math.floor(rand() * 5));
    // the bias of the plug-in estimate is about 16 / (2 n ln 5) ≈ 3e-4
    expect(normalizedMutualInfo(a, b)).toBeLessThan(2e-3);
    expect(normalizedMutualInfo([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
  });

  it("matches the direct formula on random labelings", () => {
    const rand = seededRandom(82);
    for (let trial = 0; trial < 5; trial++) {
      const a = Array.from({ length: 60 }, () => Math.floor(rand() * 4));
      const b = a.map((v) => (rand() < 0.5 ? v : Math.floor(rand() * 6)));
      expect(normalizedMutualInfo(a, b)).toBeCloseTo(directNMI(a, b), 13);
    }
  });

  it("ignores items labelled −1 in either labeling", () => {
    const a = [0, 0, 1, 1, -1, 2];
    const b = [1, 1, 0, 0, 2, -1];
    expect(normalizedMutualInfo(a, b)).toBe(
      normalizedMutualInfo([0, 0, 1, 1], [1, 1, 0, 0]),
    );
    expect(() => normalizedMutualInfo([-1, 0], [0, -1])).toThrow(ConfigError);
  });
});

describe("adjustedRandIndex", () => {
  it("matches scikit-learn's documented examples", () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(
      4 / 7,
      15,
    );
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(
      4 / 7,
      15,
    );
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 15);
  });

  it("agrees with counting every pair", () => {
    expect(adjustedRandIndex(bookClusters, bookClasses)).toBeCloseTo(
      pairCountARI(bookClusters, bookClasses),
      14,
    );
    const rand = seededRandom(83);
    for (let trial = 0; trial < 5; trial++) {
      const a = Array.from({ length: 80 }, () => Math.floor(rand() * 5));
      const b = a.map((v) => (rand() < 0.6 ? v : Math.floor(rand() * 3)));
      expect(adjustedRandIndex(a, b)).toBeCloseTo(pairCountARI(a, b), 13);
    }
  });

  it("is near 0 for independent labelings and 1 in degenerate cases", () => {
    const rand = seededRandom(84);
    const n = 20000;
    const a = Array.from({ length: n }, () => Math.floor(rand() * 5));
    const b = Array.from({ length: n }, () => Math.floor(rand() * 5));
    expect(Math.abs(adjustedRandIndex(a, b))).toBeLessThan(2e-3);
    expect(adjustedRandIndex([0, 1, 2], [5, 6, 7])).toBe(1);
    expect(adjustedRandIndex([2, 2], [1, 1])).toBe(1);
    expect(adjustedRandIndex([0], [3])).toBe(1);
  });

  it("ignores −1 and rejects bad input", () => {
    expect(adjustedRandIndex([0, 0, -1, 1, 1], [1, 1, 0, 0, 0])).toBe(1);
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(ShapeError);
    expect(() => adjustedRandIndex([0, 1.5], [0, 1])).toThrow(ConfigError);
  });
});
