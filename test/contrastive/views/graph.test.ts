/**
 * Graph views against their definitions: edge drop counts against the
 * binomial law, views as sub-multisets of the input's edges, symmetric
 * graphs staying symmetric; masked features compared value by value with
 * a plain float64 reference built from the drawn masks, masked fractions
 * against the binomial law; determinism, untouched inputs, typed errors
 * and tensor leaks.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../../src/backend.js";
import {
  columnMask,
  diffusionView,
  dropEdges,
  graphView,
  maskFeatures,
  maskNodeFeatures,
} from "../../../src/contrastive/views/graph.js";
import { ConfigError, ShapeError } from "../../../src/errors.js";
import { Graph } from "../../../src/graph/graph.js";
import { isSymmetric } from "../../../src/graph/transforms.js";
import { SparseFeatures } from "../../../src/mp/linear.js";
import { mulberry32, type Random } from "../../../src/random.js";

/** A random graph; with `symmetric`, every edge is added both ways. */
function randomGraph(
  r: Random,
  numNodes: number,
  numEdges: number,
  symmetric: boolean,
): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  const weights: number[] = [];
  for (let e = 0; e < numEdges; e++) {
    const i = Math.floor(r() * numNodes);
    const j = Math.floor(r() * numNodes);
    const w = 1 + Math.floor(r() * 8);
    src.push(i);
    dst.push(j);
    weights.push(w);
    if (symmetric && i !== j) {
      src.push(j);
      dst.push(i);
      weights.push(w);
    }
  }
  return Graph.fromEdges(src, dst, { numNodes, weights });
}

/** Multiset of `src dst weight` keys of a graph's edges. */
function edgeCounts(g: Graph): Map<string, number> {
  const counts = new Map<string, number>();
  const dst = g.dst;
  for (let e = 0; e < g.numEdges; e++) {
    const key = `${g.src[e]} ${dst[e]} ${g.weights?.[e] ?? 1}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Whether every edge of `sub` (with multiplicity) is an edge of `g`. */
function isSubMultiset(sub: Graph, g: Graph): boolean {
  const have = edgeCounts(g);
  for (const [key, count] of edgeCounts(sub)) {
    if ((have.get(key) ?? 0) < count) return false;
  }
  return true;
}

/**
 * Float64 reference of MVGRL's PPR matrix on a small undirected graph:
 * S = α Σ_k ((1 − α) T)^k with T = D^{-1/2} (A + I) D^{-1/2}, summed
 * densely until the terms fall below 1e-15.
 */
function pprReference(g: Graph, alpha: number): number[][] {
  const n = g.numNodes;
  const a = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j): number => (i === j ? 1 : 0)),
  );
  const dst = g.dst;
  for (let e = 0; e < g.numEdges; e++) a[dst[e]][g.src[e]] += 1;
  const deg = a.map((row) => row.reduce((s, v) => s + v, 0));
  const t = a.map((row, i) =>
    row.map((v, j) => v / Math.sqrt(deg[i] * deg[j])),
  );
  let term = a.map((row, i) => row.map((_, j) => (i === j ? alpha : 0)));
  const sum = term.map((row) => row.slice());
  for (let k = 0; k < 2000; k++) {
    term = term.map((row) =>
      row.map((_, j) =>
        row.reduce((s, _v, m) => s + (1 - alpha) * row[m] * t[m][j], 0),
      ),
    );
    let biggest = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        sum[i][j] += term[i][j];
        biggest = Math.max(biggest, Math.abs(term[i][j]));
      }
    }
    if (biggest < 1e-15) break;
  }
  return sum;
}

/** The weighted adjacency of `g` as a dense array, M[dst][src]. */
function denseOf(g: Graph): number[][] {
  const m = Array.from({ length: g.numNodes }, () =>
    new Array<number>(g.numNodes).fill(0),
  );
  const dst = g.dst;
  for (let e = 0; e < g.numEdges; e++) {
    m[dst[e]][g.src[e]] += g.weights?.[e] ?? 1;
  }
  return m;
}

/** A seeded dense matrix with no zero entries, as nested arrays. */
function randomRows(r: Random, n: number, d: number): number[][] {
  return Array.from({ length: n }, () =>
    Array.from({ length: d }, () => 0.5 + r()),
  );
}

/** Dense values of features of either kind, as nested arrays. */
function rowsOf(x: tf.Tensor2D | SparseFeatures): number[][] {
  if (x instanceof SparseFeatures) {
    const dense = x.toDense();
    const rows = dense.arraySync();
    dense.dispose();
    return rows;
  }
  return x.arraySync();
}

describe("dropEdges", () => {
  it("keeps each directed edge with probability 1 - rate", () => {
    const g = randomGraph(mulberry32(1), 300, 6000, false);
    const rate = 0.3;
    const view = dropEdges(g, rate, { seed: 2, symmetric: false });
    // binomial(E, 1 - rate): mean E(1 - p), σ = √(E p (1 - p))
    const sigma = Math.sqrt(g.numEdges * rate * (1 - rate));
    expect(Math.abs(view.numEdges - g.numEdges * (1 - rate))).toBeLessThan(
      3 * sigma,
    );
    expect(view.numNodes).toBe(g.numNodes);
    expect(isSubMultiset(view, g)).toBe(true);
  });

  it("keeps a symmetric graph symmetric, dropping pairs together", () => {
    const g = randomGraph(mulberry32(3), 200, 3000, true);
    expect(isSymmetric(g)).toBe(true);
    const rate = 0.4;
    const view = dropEdges(g, rate, { random: mulberry32(4) });
    expect(isSymmetric(view)).toBe(true);
    expect(isSubMultiset(view, g)).toBe(true);

    // unordered pairs {i, j} with i ≠ j: one Bernoulli(1 - rate) each
    const pairs = (h: Graph) => {
      const keys = new Set<string>();
      const dst = h.dst;
      for (let e = 0; e < h.numEdges; e++) {
        const [a, b] = [h.src[e], dst[e]].sort((u, v) => u - v);
        keys.add(`${a} ${b}`);
      }
      return keys.size;
    };
    const before = pairs(g);
    const after = pairs(view);
    const sigma = Math.sqrt(before * rate * (1 - rate));
    expect(Math.abs(after - before * (1 - rate))).toBeLessThan(3 * sigma);
  });

  it("is deterministic per seed, keeps rate 0 and empties at rate 1", () => {
    const g = randomGraph(mulberry32(5), 50, 400, false);
    const srcCopy = g.src.slice();
    const a = dropEdges(g, 0.5, { seed: 7 });
    const b = dropEdges(g, 0.5, { seed: 7 });
    const c = dropEdges(g, 0.5, { seed: 8 });
    expect(a.src).toEqual(b.src);
    expect(a.rowPtr).toEqual(b.rowPtr);
    expect(a.src).not.toEqual(c.src);
    expect(dropEdges(g, 0, { seed: 1 }).src).toEqual(g.src);
    expect(dropEdges(g, 1, { seed: 1 }).numEdges).toBe(0);
    expect(g.src).toEqual(srcCopy);
  });

  it("raises ConfigError for a rate outside [0, 1]", () => {
    const g = randomGraph(mulberry32(6), 5, 10, false);
    expect(() => dropEdges(g, 1.5)).toThrow(ConfigError);
    expect(() => dropEdges(g, -0.1)).toThrow(ConfigError);
    expect(() => dropEdges(g, Number.NaN)).toThrow(ConfigError);
  });
});

describe("maskFeatures", () => {
  it("zeroes exactly the drawn columns of dense features", () => {
    const rows = randomRows(mulberry32(10), 7, 40);
    const x = tf.tensor2d(rows);
    const before = tf.memory().numTensors;
    const out = maskFeatures(x, 0.4, mulberry32(11)) as tf.Tensor2D;
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(out).not.toBe(x);
    const keep = columnMask(40, 0.4, mulberry32(11));

    // reference: x · diag(keep) written out in float64
    const expected = rows.map((row) =>
      row.map((v, j) => Math.fround(v) * keep[j]),
    );
    expect(out.arraySync()).toEqual(expected);
    expect(x.arraySync()).toEqual(rows.map((r) => r.map(Math.fround)));
    expect(keep.some((k) => k === 0)).toBe(true);
    expect(keep.some((k) => k === 1)).toBe(true);
    out.dispose();
    x.dispose();
  });

  it("masks a fraction of columns within 3σ of the binomial", () => {
    const d = 5000;
    const rate = 0.3;
    const x = tf.ones([2, d]) as tf.Tensor2D;
    const out = maskFeatures(x, rate, mulberry32(12)) as tf.Tensor2D;
    const [first, second] = out.arraySync();
    expect(second).toEqual(first);
    const masked = first.filter((v) => v === 0).length;
    const sigma = Math.sqrt(d * rate * (1 - rate));
    expect(Math.abs(masked - d * rate)).toBeLessThan(3 * sigma);
    tf.dispose([x, out]);
  });

  it("masks sparse features like dense ones and returns sparse", () => {
    const r = mulberry32(13);
    const n = 20;
    const d = 30;
    const data = Array.from({ length: n * d }, () => (r() < 0.2 ? 1 + r() : 0));
    const sparse = SparseFeatures.fromDense(data, n, d);
    const dense = tf.tensor2d(data, [n, d]);
    const outSparse = maskFeatures(sparse, 0.5, mulberry32(14));
    const outDense = maskFeatures(dense, 0.5, mulberry32(14)) as tf.Tensor2D;
    expect(outSparse).toBeInstanceOf(SparseFeatures);
    expect(rowsOf(outSparse)).toEqual(outDense.arraySync());

    // no stored entry of a masked column survives
    const keep = columnMask(d, 0.5, mulberry32(14));
    const s = outSparse as SparseFeatures;
    expect(Array.from(s.colIdx).every((j) => keep[j] === 1)).toBe(true);
    expect(s.nnz).toBeLessThan(sparse.nnz);
    tf.dispose([dense, outDense]);
  });

  it("returns a fresh copy at rate 0 and zeros at rate 1", () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const same = maskFeatures(x, 0, mulberry32(1)) as tf.Tensor2D;
    const none = maskFeatures(x, 1, mulberry32(1)) as tf.Tensor2D;
    expect(same).not.toBe(x);
    expect(same.arraySync()).toEqual(x.arraySync());
    expect(none.arraySync()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    tf.dispose([x, same, none]);
  });

  it("raises ConfigError for a bad rate", () => {
    const x = tf.ones([2, 2]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => maskFeatures(x, 1.1, mulberry32(1))).toThrow(ConfigError);
    expect(() => maskFeatures(x, -1, mulberry32(1))).toThrow(ConfigError);
    expect(() => columnMask(-1, 0.5, mulberry32(1))).toThrow(ConfigError);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe("maskNodeFeatures", () => {
  it("zeroes single entries at the asked rate", () => {
    const n = 100;
    const d = 50;
    const rows = randomRows(mulberry32(20), n, d);
    const x = tf.tensor2d(rows);
    const out = maskNodeFeatures(x, 0.25, mulberry32(21)) as tf.Tensor2D;
    const keep = columnMask(n * d, 0.25, mulberry32(21));
    const expected = rows.map((row, i) =>
      row.map((v, j) => Math.fround(v) * keep[i * d + j]),
    );
    expect(out.arraySync()).toEqual(expected);
    const zeros = keep.filter((k) => k === 0).length;
    const sigma = Math.sqrt(n * d * 0.25 * 0.75);
    expect(Math.abs(zeros - n * d * 0.25)).toBeLessThan(3 * sigma);
    tf.dispose([x, out]);
  });

  it("zeroes whole rows in row mode, dense and sparse alike", () => {
    const r = mulberry32(22);
    const n = 40;
    const d = 6;
    const data = Array.from({ length: n * d }, () => (r() < 0.5 ? r() : 0));
    const dense = tf.tensor2d(data, [n, d]);
    const sparse = SparseFeatures.fromDense(data, n, d);
    const options = { mode: "row" as const };
    const outDense = maskNodeFeatures(dense, 0.5, mulberry32(23), options);
    const outSparse = maskNodeFeatures(sparse, 0.5, mulberry32(23), options);
    const keep = columnMask(n, 0.5, mulberry32(23));
    const expected = Array.from({ length: n }, (_, i) =>
      Array.from(
        { length: d },
        (_, j) => Math.fround(data[i * d + j]) * keep[i],
      ),
    );
    expect(rowsOf(outDense as tf.Tensor2D)).toEqual(expected);
    expect(rowsOf(outSparse)).toEqual(expected);
    tf.dispose([dense, outDense as tf.Tensor2D]);
  });

  it("drops stored entries of sparse features, one draw each", () => {
    const data = [1, 0, 2, 0, 3, 4, 0, 5, 6];
    const sparse = SparseFeatures.fromDense(data, 3, 3);
    const out = maskNodeFeatures(sparse, 0.5, mulberry32(24)) as SparseFeatures;
    const keep = columnMask(6, 0.5, mulberry32(24));
    const stored = [1, 2, 3, 4, 5, 6];
    expect(Array.from(out.values)).toEqual(stored.filter((_, e) => keep[e]));
    expect(sparse.nnz).toBe(6);
  });

  it("raises ConfigError for a bad rate or mode", () => {
    const x = tf.ones([2, 2]) as tf.Tensor2D;
    expect(() => maskNodeFeatures(x, 2, mulberry32(1))).toThrow(ConfigError);
    expect(() =>
      maskNodeFeatures(x, 0.5, mulberry32(1), {
        mode: "column" as unknown as "row",
      }),
    ).toThrow(ConfigError);
    x.dispose();
  });
});

describe("diffusionView", () => {
  // a path 0-1-2-3-4 and a triangle 5-6-7 joined by the edge 4-5
  const pairs = [
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
    [5, 6],
    [6, 7],
    [5, 7],
  ];
  const small = Graph.fromEdges(
    pairs.flat(),
    pairs.flatMap(([i, j]) => [j, i]),
    { numNodes: 8 },
  );

  it("is MVGRL's PPR matrix α (I − (1 − α) T)^{-1}", () => {
    const view = diffusionView(small, {
      sparsify: { threshold: 0 },
      epsilon: 1e-9,
    });
    const reference = pprReference(small, 0.2);
    const got = denseOf(view);
    let worst = 0;
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        worst = Math.max(worst, Math.abs(got[i][j] - reference[i][j]));
      }
    }
    // truncation ε = 1e-9 per dropped entry, float32 weights (~1e-7)
    expect(worst).toBeLessThan(1e-6);
    expect(view.numNodes).toBe(8);
    // MVGRL's S is dense on a connected graph: all 64 entries present
    expect(view.numEdges).toBe(64);
  });

  it("keeps the topK largest entries of every column", () => {
    const view = diffusionView(small, { topK: 3, epsilon: 1e-9 });
    const reference = pprReference(small, 0.2);
    const got = denseOf(view);
    for (let j = 0; j < 8; j++) {
      const column = reference.map((row) => row[j]);
      const third = column.slice().sort((u, v) => v - u)[2];
      const kept = got.map((row) => row[j]);
      expect(kept.filter((v) => v !== 0).length).toBe(3);
      for (let i = 0; i < 8; i++) {
        if (kept[i] !== 0) {
          expect(column[i]).toBeGreaterThanOrEqual(third - 1e-12);
          expect(Math.abs(kept[i] - column[i])).toBeLessThan(1e-6);
        }
      }
    }
  });

  it("is computed once per graph and options", () => {
    const a = diffusionView(small, { topK: 4 });
    const b = diffusionView(small, { topK: 4, alpha: 0.2, kernel: "ppr" });
    const c = diffusionView(small, { topK: 4, alpha: 0.3 });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(c.weights).not.toEqual(a.weights);
  });

  it("raises ConfigError for bad options", () => {
    expect(() =>
      diffusionView(small, { topK: 2, sparsify: { threshold: 0 } }),
    ).toThrow(ConfigError);
    expect(() => diffusionView(small, { alpha: 1.5 })).toThrow(ConfigError);
    expect(() => diffusionView(small, { topK: 0 })).toThrow(ConfigError);
  });

  it("serves as the graph of a view before edges are dropped", () => {
    const x = tf.ones([8, 3]) as tf.Tensor2D;
    const diffusion = { topK: 4 };
    const plain = graphView(
      small,
      x,
      { dropEdge: 0, maskFeatures: 0, diffusion },
      mulberry32(1),
    );
    expect(plain.graph).toBe(diffusionView(small, diffusion));
    const dropped = graphView(
      small,
      x,
      { dropEdge: 0.5, maskFeatures: 0, diffusion },
      mulberry32(2),
    );
    expect(isSubMultiset(dropped.graph, plain.graph)).toBe(true);
    expect(dropped.graph.numEdges).toBeLessThan(plain.graph.numEdges);
    tf.dispose([x, plain.x as tf.Tensor2D, dropped.x as tf.Tensor2D]);
  });
});

describe("graphView", () => {
  const g = randomGraph(mulberry32(30), 60, 300, true);
  const rows = randomRows(mulberry32(31), 60, 12);

  it("drops edges and then masks columns from one stream", () => {
    const x = tf.tensor2d(rows);
    const before = tf.memory().numTensors;
    const spec = { dropEdge: 0.2, maskFeatures: 0.3 };
    const view = graphView(g, x, spec, mulberry32(32));
    expect(tf.memory().numTensors).toBe(before + 1);

    const r = mulberry32(32);
    const graph = dropEdges(g, 0.2, { random: r });
    const features = maskFeatures(x, 0.3, r) as tf.Tensor2D;
    expect(view.graph.src).toEqual(graph.src);
    expect(view.graph.rowPtr).toEqual(graph.rowPtr);
    expect((view.x as tf.Tensor2D).arraySync()).toEqual(features.arraySync());
    expect(view.graph.numNodes).toBe(60);
    expect(isSymmetric(view.graph)).toBe(true);
    expect(isSubMultiset(view.graph, g)).toBe(true);
    tf.dispose([x, view.x as tf.Tensor2D, features]);
  });

  it("draws two different GRACE views and repeats them per seed", () => {
    const x = tf.tensor2d(rows);
    const specs = [
      { dropEdge: 0.2, maskFeatures: 0.3 },
      { dropEdge: 0.4, maskFeatures: 0.4 },
    ];
    const r1 = mulberry32(33);
    const r2 = mulberry32(33);
    const first = specs.map((s) => graphView(g, x, s, r1));
    const again = specs.map((s) => graphView(g, x, s, r2));
    expect(first[0].graph.src).toEqual(again[0].graph.src);
    expect(first[1].graph.src).toEqual(again[1].graph.src);
    expect(first[0].graph.src).not.toEqual(first[1].graph.src);
    expect(first[1].graph.numEdges).toBeLessThan(first[0].graph.numEdges);
    tf.dispose([...first, ...again].map((v) => v.x as tf.Tensor2D));
    x.dispose();
  });

  it("raises ShapeError or ConfigError for bad inputs", () => {
    const x = tf.ones([59, 12]) as tf.Tensor2D;
    const ok = tf.ones([60, 12]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const spec = { dropEdge: 0.2, maskFeatures: 0.3 };
    expect(() => graphView(g, x, spec, mulberry32(1))).toThrow(ShapeError);
    expect(() =>
      graphView(g, ok, { dropEdge: 1.2, maskFeatures: 0 }, mulberry32(1)),
    ).toThrow(ConfigError);
    expect(() =>
      graphView(g, ok, { dropEdge: 0, maskFeatures: -0.5 }, mulberry32(1)),
    ).toThrow(ConfigError);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ok]);
  });
});
