import { eigs } from "mathjs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { symmetricEigen } from "../../src/spectral/dense.js";
import {
  effectiveRank,
  effectiveRankOfValues,
  numericalRank,
  singularValues,
} from "../../src/spectral/rank.js";
import {
  columns,
  matmul,
  randomMatrix,
  randomSymmetric,
  seededRandom,
  toRows,
  transpose,
} from "./helpers.js";

/** X = A diag(s) Bᵀ with orthonormal A (n × k) and orthogonal B (k × k). */
function withSingularValues(
  rand: () => number,
  n: number,
  s: number[],
): Float64Array {
  const k = s.length;
  const a = columns(
    symmetricEigen(randomSymmetric(rand, n), n).vectors,
    n,
    n,
    0,
    k,
  );
  const b = symmetricEigen(randomSymmetric(rand, k), k).vectors;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) a[i * k + j] *= s[j];
  }
  return matmul(a, transpose(b, k, k), n, k, k);
}

const mat = (data: Float64Array, rows: number, cols: number) => ({
  data,
  rows,
  cols,
});

describe("singularValues", () => {
  it("recovers prescribed singular values by both methods", () => {
    const s = [5, 3, 2, 1, 0.5, 0.25];
    const x = withSingularValues(seededRandom(31), 40, s);
    for (const method of ["gram", "qr"] as const) {
      const got = singularValues(mat(x, 40, 6), { method });
      for (let i = 0; i < 6; i++) {
        expect(Math.abs(got[i] - s[i])).toBeLessThan(1e-13 * s[0]);
      }
    }
  });

  it("agrees with mathjs eigs of XᵀX on a random matrix", () => {
    const n = 30;
    const k = 8;
    const x = randomMatrix(seededRandom(32), n, k);
    const g = matmul(transpose(x, n, k), x, k, n, k);
    const ref = (eigs(toRows(g, k, k)).values as number[])
      .map((v) => Math.sqrt(Number(v)))
      .sort((a, b) => b - a);
    const got = singularValues(mat(x, n, k));
    for (let i = 0; i < k; i++) {
      expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-12 * ref[0]);
    }
  });

  it("resolves tiny singular values with the qr method", () => {
    const s = [1, 1e-3, 1e-10, 1e-14];
    const x = withSingularValues(seededRandom(33), 30, s);
    const got = singularValues(mat(x, 30, 4), { method: "qr" });
    // absolute tolerance 1e-15 · σ_max, far below √eps
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(got[i] - s[i])).toBeLessThan(1e-15);
    }
  });

  it("handles wide matrices (N < k) and empty ones", () => {
    const s = [4, 2, 1];
    const tall = withSingularValues(seededRandom(34), 12, s);
    const wide = transpose(tall, 12, 3);
    for (const method of ["gram", "qr"] as const) {
      const got = singularValues(mat(wide, 3, 12), { method });
      expect(got.length).toBe(3);
      for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(s[i], 13);
    }
    expect(singularValues(mat(new Float64Array(0), 5, 0)).length).toBe(0);
  });
});

describe("effectiveRank", () => {
  it("matches exp(entropy) computed by hand", () => {
    // σ = (3, 1): p = (3/4, 1/4)
    const h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    const x = withSingularValues(seededRandom(35), 10, [3, 1]);
    expect(effectiveRank(mat(x, 10, 2))).toBeCloseTo(Math.exp(h), 12);
    expect(effectiveRankOfValues([1, 3, 0])).toBeCloseTo(Math.exp(h), 15);
  });

  it("is k for equal singular values, 1 for rank one, 0 for zero", () => {
    const x = withSingularValues(seededRandom(36), 20, [2, 2, 2, 2, 2]);
    expect(effectiveRank(mat(x, 20, 5))).toBeCloseTo(5, 12);
    const r1 = withSingularValues(seededRandom(37), 20, [7, 0, 0]);
    expect(effectiveRank(mat(r1, 20, 3), { method: "qr" })).toBeCloseTo(1, 12);
    expect(effectiveRank(mat(new Float64Array(12), 4, 3))).toBe(0);
  });

  it("rejects negative singular values", () => {
    expect(() => effectiveRankOfValues([1, -1])).toThrow(ConfigError);
  });
});

describe("numericalRank", () => {
  it("counts exactly the non-zero singular values of a rank-3 matrix", () => {
    const rand = seededRandom(38);
    const a = randomMatrix(rand, 50, 3);
    const b = randomMatrix(rand, 3, 6);
    const x = matmul(a, b, 50, 3, 6);
    expect(numericalRank(mat(x, 50, 6))).toBe(3);
    expect(numericalRank(mat(transpose(x, 50, 6), 6, 50))).toBe(3);
  });

  it("follows the tolerance option", () => {
    const x = withSingularValues(seededRandom(39), 20, [1, 1e-2, 1e-5, 1e-9]);
    expect(numericalRank(mat(x, 20, 4))).toBe(4);
    expect(numericalRank(mat(x, 20, 4), { tolerance: 1e-7 })).toBe(3);
    expect(numericalRank(mat(x, 20, 4), { tolerance: 1e-3 })).toBe(2);
    expect(numericalRank(mat(new Float64Array(8), 4, 2))).toBe(0);
    expect(() => numericalRank(mat(x, 20, 4), { tolerance: -1 })).toThrow(
      ConfigError,
    );
  });
});
