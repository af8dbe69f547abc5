/**
 * eigsh against closed forms (path, cycle, complete, star, complete
 * bipartite), against mathjs `eigs` on small random graphs and against
 * the dense solver on a few hundred nodes, on repeated eigenvalues
 * (1, 3 and 10 components), on each end of the spectrum, and on its
 * errors. Sizes above 200 nodes take the iterative path by default;
 * smaller ones are also forced through it.
 */

import { eigs } from "mathjs";
import { describe, expect, it } from "vitest";
import { ConfigError, NumericalError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { symmetricEigen } from "../../src/spectral/dense.js";
import {
  EigshConvergenceError,
  type EigshOptions,
  type EigshResult,
  eigsh,
  type Which,
} from "../../src/spectral/eigsh.js";
import {
  adjacencyOperator,
  DenseOperator,
  graphOperator,
  type LinearOperator,
  laplacianOperator,
  normalizedAdjacencyOperator,
  rwLaplacianOperator,
  symLaplacianOperator,
} from "../../src/spectral/operators.js";
import { mulberry32 } from "../helpers/random.js";

// ---------------------------------------------------------------------
// graphs and references
// ---------------------------------------------------------------------

/** An undirected unweighted graph from pairs (both directions stored). */
function undirected(n: number, pairs: [number, number][]): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  for (const [u, v] of pairs) {
    src.push(u, v);
    dst.push(v, u);
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

function pathGraph(n: number): Graph {
  return undirected(
    n,
    Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as [number, number]),
  );
}

function cycleGraph(n: number): Graph {
  return undirected(
    n,
    Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as [number, number]),
  );
}

function completeGraph(n: number): Graph {
  const pairs: [number, number][] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  return undirected(n, pairs);
}

/** Star with node 0 at the centre and n − 1 leaves. */
function starGraph(n: number): Graph {
  return undirected(
    n,
    Array.from({ length: n - 1 }, (_, i) => [0, i + 1] as [number, number]),
  );
}

/** Complete bipartite K_{a,b}: nodes 0..a−1 against a..a+b−1. */
function completeBipartite(a: number, b: number): Graph {
  const pairs: [number, number][] = [];
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++) pairs.push([i, a + j]);
  return undirected(a + b, pairs);
}

/**
 * c connected components of `size` nodes each: a cycle through each
 * component plus `chords` random extra edges, so each is connected.
 */
function components(
  c: number,
  size: number,
  chords: number,
  seed: number,
): Graph {
  const rng = mulberry32(seed);
  const pairs: [number, number][] = [];
  for (let k = 0; k < c; k++) {
    const base = k * size;
    for (let i = 0; i < size; i++) {
      pairs.push([base + i, base + ((i + 1) % size)]);
    }
    const seen = new Set<number>();
    let added = 0;
    while (added < chords) {
      const u = Math.floor(rng() * size);
      const v = Math.floor(rng() * size);
      const d = Math.abs(u - v);
      if (d <= 1 || d === size - 1) continue;
      const key = Math.min(u, v) * size + Math.max(u, v);
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push([base + u, base + v]);
      added++;
    }
  }
  return undirected(c * size, pairs);
}

/** G(n, m): m distinct random pairs, plus `isolated` nodes at the end. */
function randomGraph(n: number, m: number, seed: number, isolated = 0): Graph {
  const rng = mulberry32(seed);
  const seen = new Set<number>();
  const pairs: [number, number][] = [];
  while (pairs.length < m) {
    const u = Math.floor(rng() * n);
    const v = Math.floor(rng() * n);
    if (u === v) continue;
    const key = Math.min(u, v) * n + Math.max(u, v);
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push([u, v]);
  }
  return undirected(n + isolated, pairs);
}

/** The key by which `which` orders eigenvalues (larger is better). */
function key(which: Which, v: number): number {
  return which === "LA" ? v : which === "SA" ? -v : Math.abs(v);
}

/** The best k of a list of eigenvalues for `which`, best first. */
function best(values: ArrayLike<number>, k: number, which: Which): number[] {
  return Array.from(values)
    .sort((a, b) => key(which, b) - key(which, a))
    .slice(0, k);
}

/** Expect two sorted eigenvalue lists to agree within `tol` each. */
function expectValues(
  got: ArrayLike<number>,
  want: number[],
  tol: number,
  relative = false,
): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const scale = relative ? Math.max(1, Math.abs(want[i])) : 1;
    expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol * scale);
  }
}

/** Column j of an N × k row-major matrix. */
function column(m: Float64Array, n: number, k: number, j: number): number[] {
  return Array.from({ length: n }, (_, i) => m[i * k + j]);
}

/**
 * The distance between span(U) and span(V), U with orthonormal columns:
 * `‖(I − U Uᵀ) V‖_F` for V with orthonormal columns too. Independent of
 * signs and of rotations inside repeated eigenvalues.
 */
function subspaceDistance(u: number[][], v: number[][]): number {
  let sq = 0;
  for (const vec of v) {
    const r = vec.slice();
    for (const b of u) {
      let d = 0;
      for (let i = 0; i < r.length; i++) d += b[i] * vec[i];
      for (let i = 0; i < r.length; i++) r[i] -= d * b[i];
    }
    for (const x of r) sq += x * x;
  }
  return Math.sqrt(sq);
}

/**
 * The largest c ≤ k such that the c-th and (c+1)-th of the sorted values
 * differ by more than `minGap`: the first c eigenvectors then span a
 * well-defined subspace, accurate to about residual / gap.
 */
function cleanCut(sorted: number[], k: number, minGap: number): number {
  let c = k;
  while (c > 0 && Math.abs(sorted[c - 1] - sorted[c]) <= minGap) c--;
  return c;
}

/** Largest |VᵀV − I| entry of the result's vectors. */
function orthogonalityError(res: EigshResult, n: number): number {
  const k = res.values.length;
  let worst = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let d = 0;
      for (let i = 0; i < n; i++)
        d += res.vectors[i * k + a] * res.vectors[i * k + b];
      worst = Math.max(worst, Math.abs(d - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** ‖A v − λ v‖ computed here with the operator, for every pair. */
function residuals(op: LinearOperator, res: EigshResult): number[] {
  const n = op.size;
  const k = res.values.length;
  const out: number[] = [];
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from(column(res.vectors, n, k, j));
    const av = new Float64Array(n);
    op.matvec(v, av);
    let s = 0;
    for (let i = 0; i < n; i++) s += (av[i] - res.values[j] * v[i]) ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

const TIGHT: EigshOptions = { tol: 1e-10 };

// ---------------------------------------------------------------------
// closed forms
// ---------------------------------------------------------------------

describe("closed forms", () => {
  const cases: {
    name: string;
    graph: () => Graph;
    spectra: Record<string, number[]>;
  }[] = [
    {
      name: "path P_n",
      graph: () => pathGraph(240),
      spectra: (() => {
        const n = 240;
        const abar = Array.from({ length: n }, (_, j) =>
          Math.cos((Math.PI * j) / (n - 1)),
        );
        return {
          "normalized-adjacency": abar,
          "sym-laplacian": abar.map((x) => 1 - x),
          "rw-laplacian": abar.map((x) => 1 - x),
          laplacian: Array.from(
            { length: n },
            (_, j) => 2 - 2 * Math.cos((Math.PI * j) / n),
          ),
        };
      })(),
    },
    {
      name: "cycle C_n (every eigenvalue but ±1 twice)",
      graph: () => cycleGraph(250),
      spectra: (() => {
        const n = 250;
        const cos = Array.from({ length: n }, (_, j) =>
          Math.cos((2 * Math.PI * j) / n),
        );
        return {
          adjacency: cos.map((x) => 2 * x),
          "normalized-adjacency": cos,
          laplacian: cos.map((x) => 2 - 2 * x),
          "sym-laplacian": cos.map((x) => 1 - x),
        };
      })(),
    },
    {
      name: "complete K_n",
      graph: () => completeGraph(220),
      spectra: (() => {
        const n = 220;
        const rest = (x: number) => Array(n - 1).fill(x) as number[];
        return {
          adjacency: [n - 1, ...rest(-1)],
          "normalized-adjacency": [1, ...rest(-1 / (n - 1))],
          laplacian: [0, ...rest(n)],
          "sym-laplacian": [0, ...rest(n / (n - 1))],
        };
      })(),
    },
    {
      name: "star S_n",
      graph: () => starGraph(300),
      spectra: (() => {
        const n = 300;
        const zeros = Array(n - 2).fill(0) as number[];
        return {
          adjacency: [Math.sqrt(n - 1), -Math.sqrt(n - 1), ...zeros],
          "normalized-adjacency": [1, -1, ...zeros],
          laplacian: [0, n, ...(Array(n - 2).fill(1) as number[])],
          "sym-laplacian": [0, 2, ...(Array(n - 2).fill(1) as number[])],
        };
      })(),
    },
    {
      name: "complete bipartite K_{a,b}",
      graph: () => completeBipartite(90, 140),
      spectra: (() => {
        const [a, b] = [90, 140];
        const zeros = Array(a + b - 2).fill(0) as number[];
        return {
          adjacency: [Math.sqrt(a * b), -Math.sqrt(a * b), ...zeros],
          "normalized-adjacency": [1, -1, ...zeros],
          laplacian: [
            0,
            a + b,
            ...(Array(b - 1).fill(a) as number[]),
            ...(Array(a - 1).fill(b) as number[]),
          ],
          "sym-laplacian": [0, 2, ...(Array(a + b - 2).fill(1) as number[])],
        };
      })(),
    },
  ];

  for (const c of cases) {
    for (const [kind, spectrum] of Object.entries(c.spectra)) {
      for (const which of ["LA", "SA", "LM"] as Which[]) {
        it(`${c.name}, ${kind}, ${which}: eigenvalues to 1e-9`, () => {
          const graph = c.graph();
          const op = graphOperator(graph, kind as "laplacian");
          const k = 6;
          const res = eigsh(op, k, { ...TIGHT, which, seed: 7 });
          expect(res.method).toBe("lanczos");
          expect(res.converged).toBe(true);
          const scale = Math.max(1, ...spectrum.map(Math.abs));
          const want = best(spectrum, k, which);
          // LM ties (±λ) may come in either order: compare magnitudes
          const got =
            which === "LM"
              ? Array.from(res.values, Math.abs)
              : Array.from(res.values);
          expectValues(
            got,
            which === "LM" ? want.map(Math.abs) : want,
            1e-9 * scale,
          );
          for (const r of res.residuals) {
            expect(r).toBeLessThanOrEqual(1e-9 * scale);
          }
        });
      }
    }
  }

  it("the dense path gives the same closed forms on small graphs", () => {
    const n = 12;
    const res = eigsh(normalizedAdjacencyOperator(cycleGraph(n)), n, {
      which: "SA",
    });
    expect(res.method).toBe("dense");
    const want = Array.from({ length: n }, (_, j) =>
      Math.cos((2 * Math.PI * j) / n),
    ).sort((a, b) => a - b);
    expectValues(res.values, want, 1e-12);
  });
});

// ---------------------------------------------------------------------
// random graphs against independent references
// ---------------------------------------------------------------------

describe("random graphs against mathjs and the dense solver", () => {
  /** Sorted eigenvalues and eigenvectors of a dense matrix by mathjs. */
  function mathjsEigen(a: Float64Array, n: number) {
    const rows = Array.from({ length: n }, (_, i) =>
      Array.from(a.subarray(i * n, (i + 1) * n)),
    );
    const { eigenvectors } = eigs(rows) as unknown as {
      eigenvectors: { value: number; vector: number[] }[];
    };
    return eigenvectors.map((e) => ({
      value: Number(e.value),
      vector: e.vector.map(Number),
    }));
  }

  for (const [seed, n, m] of [
    [1, 40, 100],
    [2, 60, 150],
    [3, 50, 300],
  ] as const) {
    for (const kind of ["normalized-adjacency", "laplacian"] as const) {
      it(`G(${n}, ${m}) seed ${seed}, ${kind}: vs mathjs eigs`, () => {
        const op = graphOperator(randomGraph(n, m, seed, 2), kind);
        const size = op.size;
        const ref = mathjsEigen(op.toDense(), size);
        for (const which of ["LA", "SA"] as Which[]) {
          for (const method of ["dense", "lanczos"] as const) {
            const k = 5;
            const res = eigsh(op, k, { ...TIGHT, which, method, seed });
            const sorted = ref
              .slice()
              .sort((a, b) => key(which, b.value) - key(which, a.value));
            const want = sorted.slice(0, k).map((e) => e.value);
            expectValues(res.values, want, 1e-8, true);

            // eigenvectors: compare the spans of the eigenvalues that are
            // complete inside the first k (a cluster cut by k is skipped)
            const cut = cleanCut(
              sorted.map((e) => e.value),
              k,
              1e-3,
            );
            expect(cut).toBeGreaterThanOrEqual(k - 2);
            const span = (r: number) =>
              column(res.vectors, size, k, r).map((x) => x);
            const got = Array.from({ length: cut }, (_, r) => span(r));
            const refSpan = sorted.slice(0, cut).map((e) => {
              const norm = Math.hypot(...e.vector);
              return e.vector.map((x) => x / norm);
            });
            expect(subspaceDistance(refSpan, got)).toBeLessThan(1e-6);
            expect(orthogonalityError(res, size)).toBeLessThan(1e-10);
          }
        }
      });
    }
  }

  for (const [seed, n, m, k] of [
    [11, 300, 900, 8],
    [12, 400, 2000, 10],
  ] as const) {
    it(`G(${n}, ${m}) seed ${seed}: vs the dense solver, LA/SA/LM`, () => {
      const op = normalizedAdjacencyOperator(randomGraph(n, m, seed, 3));
      const size = op.size;
      const dense = symmetricEigen(op.toDense(), size);
      for (const which of ["LA", "SA", "LM"] as Which[]) {
        const res = eigsh(op, k, { ...TIGHT, which, seed });
        expect(res.method).toBe("lanczos");
        const order = Array.from({ length: size }, (_, j) => j).sort(
          (a, b) => key(which, dense.values[b]) - key(which, dense.values[a]),
        );
        const want = order.slice(0, k).map((j) => dense.values[j]);
        expectValues(res.values, want, 1e-8, true);

        // the gap after the compared vectors bounds their error
        const cut = cleanCut(
          order.map((j) => dense.values[j]),
          k,
          1e-3,
        );
        expect(cut).toBeGreaterThanOrEqual(k - 2);
        const refSpan = order
          .slice(0, cut)
          .map((j) => column(dense.vectors, size, size, j));
        const got = Array.from({ length: cut }, (_, r) =>
          column(res.vectors, size, k, r),
        );
        expect(subspaceDistance(refSpan, got)).toBeLessThan(1e-6);
        const mine = residuals(op, res);
        for (let j = 0; j < k; j++) {
          expect(Math.abs(mine[j] - res.residuals[j])).toBeLessThan(1e-12);
          expect(mine[j]).toBeLessThan(1e-9);
        }
      }
    });
  }

  it("isolated nodes: eigenvalue 0 of Ā and 1 of L_sym, as documented", () => {
    // 250 nodes in one random graph plus 30 isolated ones
    const g = randomGraph(250, 1000, 4, 30);
    const abar = normalizedAdjacencyOperator(g);
    const lsym = symLaplacianOperator(g);
    const ref = symmetricEigen(abar.toDense(), g.numNodes).values;
    const res = eigsh(abar, 6, { ...TIGHT, which: "LA" });
    expectValues(res.values, best(ref, 6, "LA"), 1e-9);
    const lres = eigsh(lsym, 6, { ...TIGHT, which: "SA" });
    expectValues(
      lres.values,
      best(ref, 6, "LA").map((x) => 1 - x),
      1e-9,
    );
  });
});

// ---------------------------------------------------------------------
// repeated eigenvalues
// ---------------------------------------------------------------------

describe("multiplicity: c components give eigenvalue 1 of Ā c times", () => {
  for (const c of [1, 3, 10]) {
    for (const blockSize of [1, 2, 4]) {
      it(`${c} component(s), block size ${blockSize}`, () => {
        const g = components(c, 60, 40, 100 + c);
        const op = normalizedAdjacencyOperator(g);
        const k = c + 3;
        const res = eigsh(op, k, {
          ...TIGHT,
          blockSize,
          seed: c,
          method: "lanczos",
        });
        expect(res.method).toBe("lanczos");
        const ones = Array.from(res.values).filter(
          (v) => Math.abs(v - 1) < 1e-9,
        );
        expect(ones.length).toBe(c);
        const ref = symmetricEigen(op.toDense(), g.numNodes).values;
        expectValues(res.values, best(ref, k, "LA"), 1e-9);

        // the eigenvectors of 1 span the component indicators scaled by
        // √d: compare the spans
        const deg = g.inDegrees();
        const indicators = Array.from({ length: c }, (_, comp) => {
          const v = Array.from({ length: g.numNodes }, (_, i) =>
            Math.floor(i / 60) === comp ? Math.sqrt(deg[i]) : 0,
          );
          const norm = Math.hypot(...v);
          return v.map((x) => x / norm);
        });
        const got = Array.from({ length: c }, (_, r) =>
          column(res.vectors, g.numNodes, k, r),
        );
        expect(subspaceDistance(indicators, got)).toBeLessThan(1e-7);

        // the Laplacian: eigenvalue 0, c times, at the small end
        const lres = eigsh(laplacianOperator(g), k, {
          ...TIGHT,
          which: "SA",
          blockSize,
          seed: c,
          method: "lanczos",
        });
        const zeros = Array.from(lres.values).filter((v) => Math.abs(v) < 1e-9);
        expect(zeros.length).toBe(c);
      });
    }
  }

  it("more copies than k: the k returned values are all 1", () => {
    const g = components(10, 30, 20, 5);
    const res = eigsh(normalizedAdjacencyOperator(g), 4, TIGHT);
    expect(res.method).toBe("lanczos");
    expectValues(res.values, [1, 1, 1, 1], 1e-10);
  });
});

// ---------------------------------------------------------------------
// options, other operators, errors
// ---------------------------------------------------------------------

describe("options and operators", () => {
  const g = randomGraph(500, 2500, 21);
  const op = normalizedAdjacencyOperator(g);

  it("is deterministic for a seed; threads 1 and 2 agree", () => {
    const a = eigsh(op, 6, { ...TIGHT, seed: 3, threads: 1 });
    const b = eigsh(op, 6, { ...TIGHT, seed: 3, threads: 1 });
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(a.matvecs).toBe(b.matvecs);
    const c = eigsh(op, 6, { ...TIGHT, seed: 3, threads: 2 });
    expectValues(c.values, Array.from(a.values), 1e-12);
    const got = Array.from({ length: 6 }, (_, r) =>
      column(c.vectors, 500, 6, r),
    );
    const ref = Array.from({ length: 6 }, (_, r) =>
      column(a.vectors, 500, 6, r),
    );
    expect(subspaceDistance(ref, got)).toBeLessThan(1e-7);
  });

  it("k close to N falls back to the dense solver", () => {
    const small = normalizedAdjacencyOperator(randomGraph(240, 800, 2));
    const res = eigsh(small, 100);
    expect(res.method).toBe("dense");
    const ref = symmetricEigen(small.toDense(), 240).values;
    expectValues(res.values, best(ref, 100, "LA"), 1e-12);
    expect(eigsh(small, 5).method).toBe("lanczos");
  });

  it("a custom operator with matvec only", () => {
    const n = 260;
    const rng = mulberry32(8);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const v = i === j ? i / n : (rng() - 0.5) / n;
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
    const dense = new DenseOperator(a, n);
    const custom: LinearOperator = {
      size: n,
      matvec: (x, y) => dense.matvec(x, y),
    };
    const res = eigsh(custom, 4, { ...TIGHT, which: "LA" });
    const ref = symmetricEigen(a, n).values;
    expectValues(res.values, best(ref, 4, "LA"), 1e-9);
  });

  it("a custom operator that is not symmetric is refused", () => {
    const n = 300;
    const bad: LinearOperator = {
      size: n,
      matvec: (x, y) => {
        for (let i = 0; i < n; i++) y[i] = x[i] + (i > 0 ? x[i - 1] : 0);
      },
    };
    expect(() => eigsh(bad, 3)).toThrow(ConfigError);
  });

  it("the random-walk Laplacian: values of L_sym, vectors of L_rw", () => {
    const g2 = randomGraph(300, 1200, 31, 5);
    const rw = rwLaplacianOperator(g2);
    const res = eigsh(rw, 5, { ...TIGHT, which: "SA" });
    const sym = eigsh(symLaplacianOperator(g2), 5, { ...TIGHT, which: "SA" });
    expectValues(res.values, Array.from(sym.values), 1e-10);
    const mine = residuals(rw, res);
    for (let j = 0; j < 5; j++) {
      expect(mine[j]).toBeLessThan(1e-8);
      expect(Math.abs(mine[j] - res.residuals[j])).toBeLessThan(1e-12);
      expect(Math.hypot(...column(res.vectors, 305, 5, j))).toBeCloseTo(1, 12);
    }
  });

  it("the adjacency matrix, largest magnitude", () => {
    const a = adjacencyOperator(g);
    const res = eigsh(a, 3, { ...TIGHT, which: "LM" });
    const ref = symmetricEigen(a.toDense(), 500).values;
    expectValues(res.values, best(ref, 3, "LM"), 1e-9, true);
  });

  it("reports progress once per restart cycle", () => {
    const seen: number[] = [];
    const res = eigsh(op, 4, {
      onProgress: (p) => seen.push(p.iteration),
    });
    expect(seen.length).toBe(res.iterations);
    expect(seen[seen.length - 1]).toBe(res.iterations);
  });
});

describe("errors", () => {
  const op = normalizedAdjacencyOperator(randomGraph(400, 2000, 41));

  it("non-convergence raises NumericalError carrying the best estimate", () => {
    let caught: unknown = null;
    try {
      eigsh(op, 6, { maxIterations: 1, tol: 1e-10 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NumericalError);
    expect(caught).toBeInstanceOf(EigshConvergenceError);
    const estimate = (caught as EigshConvergenceError).estimate;
    expect(estimate.converged).toBe(false);
    expect(estimate.values.length).toBe(6);
    expect(estimate.vectors.length).toBe(400 * 6);
    expect(estimate.iterations).toBe(1);

    // the estimate is a real one: its top value is close, its residuals
    // are the true ones and some exceed the tolerance
    const ref = symmetricEigen(op.toDense(), 400).values;
    expect(Math.abs(estimate.values[0] - best(ref, 1, "LA")[0])).toBeLessThan(
      1e-3,
    );
    const mine = residuals(op, estimate);
    for (let j = 0; j < 6; j++) {
      expect(Math.abs(mine[j] - estimate.residuals[j])).toBeLessThan(1e-12);
    }
    expect(Math.max(...estimate.residuals)).toBeGreaterThan(1e-10);
  });

  it("invalid arguments are ConfigErrors", () => {
    const bad: [number, EigshOptions][] = [
      [0, {}],
      [401, {}],
      [2.5, {}],
      [3, { tol: 0 }],
      [3, { tol: 2 }],
      [3, { which: "BE" as Which }],
      [3, { maxIterations: 0 }],
      [3, { blockSize: 0 }],
      [3, { ncv: 4 }],
      [3, { ncv: 400 }],
      [3, { threads: 3 }],
      [3, { method: "qr" as "dense" }],
    ];
    for (const [k, options] of bad) {
      expect(() => eigsh(op, k, options)).toThrow(ConfigError);
    }
  });
});
