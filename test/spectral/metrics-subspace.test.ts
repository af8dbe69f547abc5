import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { NumericalError, ShapeError } from "../../src/errors.js";
import { symmetricEigen } from "../../src/spectral/dense.js";
import {
  orthonormalize,
  principalAngles,
  subspaceDistance,
} from "../../src/spectral/subspace.js";
import {
  columns,
  matmul,
  maxAbsDiff,
  randomMatrix,
  randomSymmetric,
  seededRandom,
  transpose,
} from "./helpers.js";

/** A random N × N orthogonal matrix (eigenvectors of a random matrix). */
function randomOrthogonal(rand: () => number, n: number): Float64Array {
  return symmetricEigen(randomSymmetric(rand, n), n).vectors;
}

/**
 * Spanning matrices of two k-dimensional subspaces with the given
 * principal angles, each multiplied by a random k × k matrix so that the
 * bases are not orthonormal.
 */
function pairWithAngles(
  rand: () => number,
  n: number,
  angles: number[],
): { u: Float64Array; v: Float64Array } {
  const k = angles.length;
  const z = randomOrthogonal(rand, n);
  const qu = columns(z, n, n, 0, k);
  const qv = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      qv[i * k + j] =
        Math.cos(angles[j]) * z[i * n + j] +
        Math.sin(angles[j]) * z[i * n + k + j];
    }
  }
  const u = matmul(qu, randomMatrix(rand, k, k), n, k, k);
  const v = matmul(qv, randomMatrix(rand, k, k), n, k, k);
  return { u, v };
}

/** ‖P_U − P_V‖_F / √2 by forming both projectors from orthonormal bases. */
function denseDistance(
  qu: Float64Array,
  ku: number,
  qv: Float64Array,
  kv: number,
  n: number,
): number {
  const pu = matmul(qu, transpose(qu, n, ku), n, ku, n);
  const pv = matmul(qv, transpose(qv, n, kv), n, kv, n);
  let s = 0;
  for (let i = 0; i < n * n; i++) s += (pu[i] - pv[i]) ** 2;
  return Math.sqrt(s / 2);
}

const mat = (data: Float64Array, rows: number, cols: number) => ({
  data,
  rows,
  cols,
});

describe("principalAngles", () => {
  it("recovers known angles, tiny and right ones included", () => {
    const n = 40;
    const angles = [0, 1e-11, 1e-6, 0.3, 1.2, Math.PI / 2 - 1e-9, Math.PI / 2];
    const k = angles.length;
    const { u, v } = pairWithAngles(seededRandom(21), n, angles);
    const got = principalAngles(mat(u, n, k), mat(v, n, k));
    // absolute tolerance 1e-13 for every angle
    expect(maxAbsDiff(got, angles)).toBeLessThan(1e-13);
    const back = principalAngles(mat(v, n, k), mat(u, n, k));
    expect(maxAbsDiff(back, angles)).toBeLessThan(1e-13);
  });

  it("matches the dense projector distance and sin² sum", () => {
    const n = 30;
    const rand = seededRandom(22);
    const u = randomMatrix(rand, n, 4);
    const v = randomMatrix(rand, n, 4);
    const angles = principalAngles(mat(u, n, 4), mat(v, n, 4));
    let sinSq = 0;
    for (const a of angles) sinSq += Math.sin(a) ** 2;
    const qu = orthonormalize(mat(u, n, 4)).data as Float64Array;
    const qv = orthonormalize(mat(v, n, 4)).data as Float64Array;
    const dense = denseDistance(qu, 4, qv, 4, n);
    const d = subspaceDistance(mat(u, n, 4), mat(v, n, 4));
    expect(Math.abs(d - dense)).toBeLessThan(1e-13);
    expect(Math.abs(d * d - sinSq)).toBeLessThan(1e-13);
  });

  it("handles subspaces of different dimensions", () => {
    const n = 25;
    const rand = seededRandom(23);
    const u = randomMatrix(rand, n, 6);
    const v = randomMatrix(rand, n, 2);
    const angles = principalAngles(mat(u, n, 6), mat(v, n, 2));
    expect(angles.length).toBe(2);
    const qu = orthonormalize(mat(u, n, 6)).data as Float64Array;
    const qv = orthonormalize(mat(v, n, 2)).data as Float64Array;

    // cos θ are the singular values of Q_Uᵀ Q_V: check via its 2 × 2 Gram
    const m = matmul(transpose(qu, n, 6), qv, 6, n, 2);
    const g = matmul(transpose(m, 6, 2), m, 2, 6, 2);
    const ev = symmetricEigen(g, 2).values;
    expect(Math.cos(angles[0]) ** 2).toBeCloseTo(ev[1], 12);
    expect(Math.cos(angles[1]) ** 2).toBeCloseTo(ev[0], 12);

    const dense = denseDistance(qu, 6, qv, 2, n);
    expect(subspaceDistance(mat(u, n, 6), mat(v, n, 2))).toBeCloseTo(dense, 12);
    expect(subspaceDistance(mat(v, n, 2), mat(u, n, 6))).toBeCloseTo(dense, 12);
  });

  it("gives 0 for the same subspace and a nested one", () => {
    const n = 20;
    const rand = seededRandom(24);
    const u = randomMatrix(rand, n, 5);
    const mixed = matmul(u, randomMatrix(rand, 5, 5), n, 5, 5);
    expect(subspaceDistance(mat(u, n, 5), mat(mixed, n, 5))).toBeLessThan(
      1e-13,
    );
    const first2 = columns(u, n, 5, 0, 2);
    const angles = principalAngles(mat(u, n, 5), mat(first2, n, 2));
    expect(Math.max(...angles)).toBeLessThan(1e-13);
    // nested: only the dimension difference remains, sqrt(3 / 2)
    expect(subspaceDistance(mat(u, n, 5), mat(first2, n, 2))).toBeCloseTo(
      Math.sqrt(1.5),
      13,
    );
  });

  it("accepts tensors and float32 data", () => {
    const n = 15;
    const rand = seededRandom(25);
    const u = Float32Array.from(randomMatrix(rand, n, 3));
    const v = Float32Array.from(randomMatrix(rand, n, 3));
    const fromArrays = principalAngles(mat32(u, n, 3), mat32(v, n, 3));
    const tu = tf.tensor2d(u, [n, 3]);
    const tv = tf.tensor2d(v, [n, 3]);
    const fromTensors = principalAngles(tu, tv);
    expect(maxAbsDiff(fromArrays, fromTensors)).toBe(0);
    tu.dispose();
    tv.dispose();
  });

  it("raises typed errors", () => {
    const rand = seededRandom(26);
    const u = randomMatrix(rand, 10, 3);
    const v = randomMatrix(rand, 9, 3);
    expect(() => principalAngles(mat(u, 10, 3), mat(v, 9, 3))).toThrow(
      ShapeError,
    );
    expect(() => subspaceDistance(mat(u, 10, 3), mat(u, 10, 2))).toThrow(
      ShapeError,
    );
    expect(() => orthonormalize(mat(u, 3, 10))).toThrow(ShapeError);

    // a repeated column makes the basis rank-deficient
    const deficient = u.slice();
    for (let i = 0; i < 10; i++) deficient[i * 3 + 2] = deficient[i * 3];
    expect(() => orthonormalize(mat(deficient, 10, 3))).toThrow(NumericalError);
    const bad = u.slice();
    bad[4] = Number.NaN;
    expect(() => principalAngles(mat(bad, 10, 3), mat(u, 10, 3))).toThrow(
      NumericalError,
    );
  });
});

describe("orthonormalize", () => {
  it("returns orthonormal columns with the same nested spans", () => {
    const n = 30;
    const k = 6;
    const rand = seededRandom(27);
    const x = randomMatrix(rand, n, k);
    const q = orthonormalize(mat(x, n, k)).data as Float64Array;
    const qtq = matmul(transpose(q, n, k), q, k, n, k);
    const eye = new Float64Array(k * k);
    for (let i = 0; i < k; i++) eye[i * k + i] = 1;
    expect(maxAbsDiff(qtq, eye)).toBeLessThan(1e-14);
    for (const j of [1, 3, 6]) {
      const d = subspaceDistance(
        mat(columns(x, n, k, 0, j), n, j),
        mat(columns(q, n, k, 0, j), n, j),
      );
      expect(d).toBeLessThan(1e-13);
    }
  });
});

function mat32(data: Float32Array, rows: number, cols: number) {
  return { data, rows, cols };
}
