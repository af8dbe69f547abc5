import { eigs } from "mathjs";
import { describe, expect, it } from "vitest";
import { ConfigError, NumericalError, ShapeError } from "../../src/errors.js";
import {
  symmetricEigen,
  symmetricEigenvalues,
} from "../../src/spectral/dense.js";
import {
  columns,
  laplacian,
  matmul,
  maxAbsDiff,
  projectorDistance,
  randomSymmetric,
  seededRandom,
  toRows,
  transpose,
} from "./helpers.js";

/** ‖Vᵀ V − I‖_max and ‖A V − V Λ‖_max of a decomposition. */
function defects(
  a: Float64Array,
  n: number,
  values: Float64Array,
  vectors: Float64Array,
): { orthogonality: number; residual: number } {
  const vtv = matmul(transpose(vectors, n, n), vectors, n, n, n);
  let orthogonality = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const target = i === j ? 1 : 0;
      orthogonality = Math.max(
        orthogonality,
        Math.abs(vtv[i * n + j] - target),
      );
    }
  }
  const av = matmul(a, vectors, n, n, n);
  let residual = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const r = av[i * n + j] - vectors[i * n + j] * values[j];
      residual = Math.max(residual, Math.abs(r));
    }
  }
  return { orthogonality, residual };
}

/** Eigenvalues that are closed forms, ascending. */
function sorted(values: number[]): number[] {
  return [...values].sort((x, y) => x - y);
}

describe("symmetricEigen against mathjs eigs", () => {
  // tolerance: eigenvalues to 1e-10 relative to the spectral radius
  for (const n of [1, 2, 3, 5, 8, 13, 25, 40]) {
    it(`agrees on a seeded random ${n} × ${n} matrix`, () => {
      const rand = seededRandom(1000 + n);
      const a = randomSymmetric(rand, n);
      const ours = symmetricEigen(a, n);
      const ref = eigs(toRows(a, n, n));
      const refValues = (ref.values as number[]).map(Number);
      const radius = Math.max(...refValues.map(Math.abs));
      const sortedRef = sorted(refValues);
      for (let j = 0; j < n; j++) {
        expect(Math.abs(ours.values[j] - sortedRef[j])).toBeLessThanOrEqual(
          1e-10 * radius,
        );
      }

      // eigenvectors: |cos| with mathjs's vector of the same eigenvalue
      // (random matrices have simple eigenvalues)
      for (const { value, vector } of ref.eigenvectors) {
        const v = (vector as number[]).map(Number);
        const j = sortedRef.indexOf(Number(value));
        let dot = 0;
        let norm = 0;
        for (let i = 0; i < n; i++) {
          dot += v[i] * ours.vectors[i * n + j];
          norm += v[i] * v[i];
        }
        expect(Math.abs(dot) / Math.sqrt(norm)).toBeCloseTo(1, 9);
      }

      const { orthogonality, residual } = defects(
        a,
        n,
        ours.values,
        ours.vectors,
      );
      expect(orthogonality).toBeLessThan(1e-13 * Math.max(n, 1));
      expect(residual).toBeLessThan(1e-13 * Math.max(n, 1) * radius);
    });
  }
});

describe("symmetricEigen closed forms", () => {
  const n = 30;

  it("path graph Laplacian: 2 − 2 cos(π j / n)", () => {
    const edges: [number, number][] = [];
    for (let i = 0; i + 1 < n; i++) edges.push([i, i + 1]);
    const l = laplacian(n, edges);
    const { values, vectors } = symmetricEigen(l, n);
    for (let j = 0; j < n; j++) {
      expect(values[j]).toBeCloseTo(2 - 2 * Math.cos((Math.PI * j) / n), 12);
    }

    // eigenvector j is cos(π j (i + ½) / n), up to sign and norm
    for (const j of [1, 2, 7]) {
      let dot = 0;
      let norm = 0;
      for (let i = 0; i < n; i++) {
        const c = Math.cos((Math.PI * j * (i + 0.5)) / n);
        dot += c * vectors[i * n + j];
        norm += c * c;
      }
      expect(Math.abs(dot) / Math.sqrt(norm)).toBeCloseTo(1, 11);
    }
  });

  it("cycle graph Laplacian: 2 − 2 cos(2π j / n), pairs repeated", () => {
    const edges: [number, number][] = [];
    for (let i = 0; i < n; i++) edges.push([i, (i + 1) % n]);
    const l = laplacian(n, edges);
    const { values, vectors } = symmetricEigen(l, n);
    const expected = sorted(
      Array.from(
        { length: n },
        (_, j) => 2 - 2 * Math.cos((2 * Math.PI * j) / n),
      ),
    );
    expect(maxAbsDiff(values, expected)).toBeLessThan(1e-12);

    // the repeated pair of j = 1 spans {cos(2π i / n), sin(2π i / n)}
    const basis = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      basis[i * 2] = Math.cos((2 * Math.PI * i) / n) * Math.sqrt(2 / n);
      basis[i * 2 + 1] = Math.sin((2 * Math.PI * i) / n) * Math.sqrt(2 / n);
    }
    const pair = columns(vectors, n, n, 1, 3);
    expect(projectorDistance(pair, basis, n, 2)).toBeLessThan(1e-10);
    expect(defects(l, n, values, vectors).residual).toBeLessThan(1e-12);
  });

  it("complete graph Laplacian: 0 once and n with multiplicity n − 1", () => {
    const edges: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) edges.push([i, j]);
    }
    const l = laplacian(n, edges);
    const { values, vectors } = symmetricEigen(l, n);
    expect(Math.abs(values[0])).toBeLessThan(1e-12 * n);
    for (let j = 1; j < n; j++) expect(values[j]).toBeCloseTo(n, 11);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(vectors[i * n])).toBeCloseTo(1 / Math.sqrt(n), 12);
    }
    const d = defects(l, n, values, vectors);
    expect(d.orthogonality).toBeLessThan(1e-12);
    expect(d.residual).toBeLessThan(1e-11);
  });

  it("star graph Laplacian: 0, 1 (n − 2 times), n", () => {
    const edges: [number, number][] = [];
    for (let i = 1; i < n; i++) edges.push([0, i]);
    const values = symmetricEigenvalues(laplacian(n, edges), n);
    const expected = [0, ...Array(n - 2).fill(1), n];
    expect(maxAbsDiff(values, expected)).toBeLessThan(1e-12);
  });

  it("Wilkinson's W21+: the close top pairs are resolved", () => {
    // tridiagonal, diagonal |10 − i|, off-diagonal 1: its two largest
    // eigenvalues agree to about 14 digits (Wilkinson 1965)
    const m = 21;
    const w = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      w[i * m + i] = Math.abs(10 - i);
      if (i + 1 < m) {
        w[i * m + i + 1] = 1;
        w[(i + 1) * m + i] = 1;
      }
    }
    const { values, vectors } = symmetricEigen(w, m);
    expect(values[m - 1]).toBeCloseTo(10.746194182903393, 12);
    expect(values[m - 1] - values[m - 2]).toBeLessThan(1e-12);
    expect(defects(w, m, values, vectors).orthogonality).toBeLessThan(1e-12);
  });
});

describe("symmetricEigen edge cases", () => {
  it("handles n = 0, the zero matrix and diagonal input", () => {
    const empty = symmetricEigen(new Float64Array(0), 0);
    expect(empty.values.length).toBe(0);
    expect(empty.vectors.length).toBe(0);

    const zero = symmetricEigen(new Float64Array(16), 4);
    expect(Array.from(zero.values)).toEqual([0, 0, 0, 0]);
    expect(defects(new Float64Array(16), 4, zero.values, zero.vectors)).toEqual(
      { orthogonality: 0, residual: 0 },
    );

    const diag = new Float64Array([3, 0, 0, 0, -1, 0, 0, 0, 2]);
    const r = symmetricEigen(diag, 3);
    expect(Array.from(r.values)).toEqual([-1, 2, 3]);
    expect(Math.abs(r.vectors[1 * 3 + 0])).toBe(1);
  });

  it("keeps relative accuracy at extreme scales", () => {
    const rand = seededRandom(7);
    const n = 12;
    const a = randomSymmetric(rand, n);
    const base = symmetricEigenvalues(a, n);
    for (const s of [1e-200, 1e200]) {
      const scaled = a.map((v) => v * s);
      const values = symmetricEigenvalues(scaled, n);
      for (let j = 0; j < n; j++) {
        expect(values[j] / s).toBeCloseTo(base[j], 12);
      }
    }
  });

  it("accepts float32 input and matches the float64 result", () => {
    const rand = seededRandom(11);
    const n = 9;
    const a32 = Float32Array.from(randomSymmetric(rand, n));
    const a64 = Float64Array.from(a32);
    expect(
      maxAbsDiff(symmetricEigenvalues(a32, n), symmetricEigenvalues(a64, n)),
    ).toBe(0);
  });

  it("agrees with symmetricEigenvalues", () => {
    const rand = seededRandom(12);
    const n = 20;
    const a = randomSymmetric(rand, n);
    expect(
      maxAbsDiff(symmetricEigen(a, n).values, symmetricEigenvalues(a, n)),
    ).toBeLessThan(1e-13);
  });

  it("raises typed errors", () => {
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(ShapeError);
    expect(() => symmetricEigen(new Float64Array(4), -2)).toThrow(ShapeError);
    expect(() => symmetricEigen(new Float64Array([1, 2, 3, 4]), 2)).toThrow(
      ConfigError,
    );
    expect(() => symmetricEigen(new Float64Array([1, NaN, NaN, 4]), 2)).toThrow(
      NumericalError,
    );
    expect(() =>
      symmetricEigen(new Float64Array([1, Infinity, Infinity, 4]), 2),
    ).toThrow(NumericalError);
    const a = randomSymmetric(seededRandom(3), 6);
    expect(() => symmetricEigen(a, 6, { maxIterations: 1 })).toThrow(
      NumericalError,
    );
    expect(() => symmetricEigen(a, 6, { symmetryTolerance: -1 })).toThrow(
      ConfigError,
    );
  });

  it("accepts asymmetry within the tolerance and symmetrizes", () => {
    const a = new Float64Array([2, 1 + 1e-12, 1, 2]);
    const { values } = symmetricEigen(a, 2);
    expect(values[0]).toBeCloseTo(1, 11);
    expect(values[1]).toBeCloseTo(3, 11);
  });

  it("stays orthogonal and accurate at n = 300", () => {
    const rand = seededRandom(300);
    const n = 300;
    const a = randomSymmetric(rand, n);
    const { values, vectors } = symmetricEigen(a, n);
    const d = defects(a, n, values, vectors);
    expect(d.orthogonality).toBeLessThan(1e-12);
    expect(d.residual).toBeLessThan(1e-11);
  });
});
