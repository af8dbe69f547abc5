/**
 * Transforms against dense references: every result's `toDense` is
 * compared with the same operation written as plain loops over the input's
 * dense matrix or its edge list, on seeded random multigraphs with loops.
 */

import { describe, expect, it } from "vitest";
import { GraphError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import {
  addSelfLoops,
  coalesce,
  degrees,
  inducedSubgraph,
  isSymmetric,
  normalize,
  removeSelfLoops,
  reverse,
  symmetrize,
} from "../../src/graph/transforms.js";
import { mulberry32, randInt, randomEdges } from "../helpers/random.js";

interface Case {
  g: Graph;
  src: number[];
  dst: number[];
  w: number[];
}

/** Seeded random graphs: loops and duplicates, half of them weighted. */
function randomCases(seed: number, count: number): Case[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const n = randInt(rng, 1, 9);
    const m = randInt(rng, 0, 3 * n);
    const weighted = rng() < 0.5;
    const { src, dst, weights } = randomEdges(rng, {
      numNodes: n,
      numEdges: m,
      weighted,
    });
    const g = Graph.fromEdges(src, dst, { numNodes: n, weights });
    return { g, src, dst, w: weights ?? src.map(() => 1) };
  });
}

const cases = randomCases(7, 60);

/** The weights of every pair, in input order, keyed `dst,src`. */
function pairLists(c: Case): Map<string, number[]> {
  const lists = new Map<string, number[]>();
  for (let e = 0; e < c.src.length; e++) {
    const key = `${c.dst[e]},${c.src[e]}`;
    const list = lists.get(key) ?? [];
    list.push(c.w[e]);
    lists.set(key, list);
  }
  return lists;
}

/** A dense matrix from pair lists reduced by `f`. */
function denseFrom(
  n: number,
  lists: Map<string, number[]>,
  f: (ws: number[]) => number,
): number[] {
  const m = new Array<number>(n * n).fill(0);
  for (const [key, ws] of lists) {
    const [i, j] = key.split(",").map(Number);
    m[i * n + j] = Math.fround(f(ws));
  }
  return m;
}

/** Check the CSR invariants every graph must keep. */
function expectValid(g: Graph): void {
  expect(g.rowPtr.length).toBe(g.numNodes + 1);
  expect(g.rowPtr[0]).toBe(0);
  expect(g.rowPtr[g.numNodes]).toBe(g.numEdges);
  for (let i = 0; i < g.numNodes; i++) {
    expect(g.rowPtr[i + 1]).toBeGreaterThanOrEqual(g.rowPtr[i]);
    for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
      if (e > g.rowPtr[i]) {
        expect(g.colIdx[e]).toBeGreaterThanOrEqual(g.colIdx[e - 1]);
      }
    }
  }
  if (g.weights !== null) {
    expect(g.weights.every((w) => Number.isFinite(w))).toBe(true);
  }
}

/** Whether no (src, dst) pair carries two edges. */
function isCoalesced(g: Graph): boolean {
  for (let i = 0; i < g.numNodes; i++) {
    for (let e = g.rowPtr[i] + 1; e < g.rowPtr[i + 1]; e++) {
      if (g.colIdx[e] === g.colIdx[e - 1]) return false;
    }
  }
  return true;
}

const sum = (ws: number[]) => ws.reduce((a, b) => a + b, 0);
const reducers = {
  sum,
  max: (ws: number[]) => Math.max(...ws),
  mean: (ws: number[]) => sum(ws) / ws.length,
  first: (ws: number[]) => ws[0],
};

describe("addSelfLoops / removeSelfLoops", () => {
  it("adds weight · I, or a loop only where none exists", () => {
    for (const c of cases) {
      const n = c.g.numNodes;
      const m = c.g.toDense();
      const hasLoop = new Array<boolean>(n).fill(false);
      for (let e = 0; e < c.src.length; e++) {
        if (c.src[e] === c.dst[e]) hasLoop[c.src[e]] = true;
      }
      const all = addSelfLoops(c.g, { weight: 2.5 });
      const missing = addSelfLoops(c.g, { onlyMissing: true });
      expectValid(all);
      expectValid(missing);
      const refAll = Array.from(m);
      const refMissing = Array.from(m);
      for (let i = 0; i < n; i++) {
        refAll[i * n + i] += 2.5;
        if (!hasLoop[i]) refMissing[i * n + i] += 1;
      }
      expect(Array.from(all.toDense())).toEqual(refAll);
      expect(Array.from(missing.toDense())).toEqual(refMissing);
      expect(all.numEdges).toBe(c.g.numEdges + n);
      expect(all.isWeighted).toBe(true);
      expect(missing.isWeighted).toBe(c.g.isWeighted);
    }
  });

  it("puts the new loop after the existing ones", () => {
    const g = Graph.fromEdges([1, 0, 1, 2], [1, 1, 1, 1], {
      weights: [5, 6, 7, 8],
    });
    const h = addSelfLoops(g, { weight: 9 });
    expect(Array.from(h.colIdx)).toEqual([0, 0, 1, 1, 1, 2, 2]);
    expect(Array.from(h.weights as Float32Array)).toEqual([
      9, 6, 5, 7, 9, 8, 9,
    ]);
  });

  it("rejects a weight that is negative or not finite", () => {
    const g = Graph.empty(2);
    for (const weight of [-1, Number.NaN, Number.POSITIVE_INFINITY, 1e39]) {
      expect(() => addSelfLoops(g, { weight })).toThrow(GraphError);
    }
  });

  it("removes the diagonal and nothing else", () => {
    for (const c of cases) {
      const n = c.g.numNodes;
      const ref = Array.from(c.g.toDense());
      let loops = 0;
      for (let e = 0; e < c.src.length; e++) {
        if (c.src[e] === c.dst[e]) loops++;
      }
      for (let i = 0; i < n; i++) ref[i * n + i] = 0;
      const h = removeSelfLoops(c.g);
      expectValid(h);
      expect(Array.from(h.toDense())).toEqual(ref);
      expect(h.numEdges).toBe(c.g.numEdges - loops);
      expect(h.isWeighted).toBe(c.g.isWeighted);
    }
  });
});

describe("coalesce", () => {
  it("merges each pair with sum, max, mean and first", () => {
    for (const c of cases) {
      const lists = pairLists(c);
      for (const reduce of ["sum", "max", "mean", "first"] as const) {
        const h = coalesce(c.g, { reduce });
        expectValid(h);
        expect(isCoalesced(h)).toBe(true);
        expect(h.numEdges).toBe(lists.size);
        const ref = denseFrom(c.g.numNodes, lists, reducers[reduce]);
        expect(Array.from(h.toDense())).toEqual(ref);
      }
    }
  });

  it("keeps unweighted graphs unweighted unless a sum merges edges", () => {
    const g = Graph.fromEdges([0, 0, 1], [1, 1, 0]);
    expect(coalesce(g, { reduce: "max" }).isWeighted).toBe(false);
    expect(coalesce(g, { reduce: "first" }).isWeighted).toBe(false);
    const summed = coalesce(g);
    expect(summed.isWeighted).toBe(true);
    expect(Array.from(summed.toDense())).toEqual([0, 1, 2, 0]);
    expect(coalesce(Graph.fromEdges([0], [1])).isWeighted).toBe(false);
  });

  it("rejects an unknown reduce and a sum beyond float32", () => {
    const g = Graph.fromEdges([0, 0], [1, 1], { weights: [3e38, 3e38] });
    expect(() => coalesce(g)).toThrow(GraphError);
    expect(coalesce(g, { reduce: "max" }).weight(0)).toBe(Math.fround(3e38));
    const reduce = "median" as "sum";
    expect(() => coalesce(g, { reduce })).toThrow(GraphError);
  });
});

describe("symmetrize", () => {
  it("sum gives M + Mᵀ; max and mean reduce both directions", () => {
    for (const c of cases) {
      const n = c.g.numNodes;
      const m = c.g.toDense();
      const ref = new Array<number>(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          ref[i * n + j] = Math.fround(m[i * n + j] + m[j * n + i]);
        }
      }
      const h = symmetrize(c.g);
      expectValid(h);
      expect(isCoalesced(h)).toBe(true);
      expect(isSymmetric(h)).toBe(true);
      expect(Array.from(h.toDense())).toEqual(ref);

      // the entries landing on (i, j): edges j -> i and edges i -> j
      const both: Case = {
        g: c.g,
        src: [...c.src, ...c.dst],
        dst: [...c.dst, ...c.src],
        w: [...c.w, ...c.w],
      };
      const lists = pairLists(both);
      for (const reduce of ["max", "mean"] as const) {
        const s = symmetrize(c.g, { reduce });
        expect(isSymmetric(s)).toBe(true);
        expect(Array.from(s.toDense())).toEqual(
          denseFrom(n, lists, reducers[reduce]),
        );
        expect(s.isWeighted).toBe(c.g.isWeighted);
      }
    }
  });

  it("doubles a loop under sum and keeps it under max", () => {
    const g = Graph.fromEdges([0, 0], [0, 1], { weights: [3, 1] });
    expect(Array.from(symmetrize(g).toDense())).toEqual([6, 1, 1, 0]);
    const max = symmetrize(g, { reduce: "max" });
    expect(Array.from(max.toDense())).toEqual([3, 1, 1, 0]);
    const reduce = "first" as "sum";
    expect(() => symmetrize(g, { reduce })).toThrow(GraphError);
  });
});

describe("normalize", () => {
  /** `1 / x` for x ≠ 0, else 0. */
  const pinv = (x: number) => (x === 0 ? 0 : 1 / x);

  it("sym, rw and col match D^-1/2 M D^-1/2, D^-1 M and M D^-1", () => {
    for (const c of cases) {
      const n = c.g.numNodes;
      const m = c.g.toDense();
      const din = new Array<number>(n).fill(0);
      const dout = new Array<number>(n).fill(0);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          din[i] += m[i * n + j];
          dout[j] += m[i * n + j];
        }
      }
      const refs = {
        sym: (i: number, j: number) =>
          m[i * n + j] * pinv(Math.sqrt(din[i])) * pinv(Math.sqrt(din[j])),
        rw: (i: number, j: number) => m[i * n + j] * pinv(din[i]),
        col: (i: number, j: number) => m[i * n + j] * pinv(dout[j]),
      };
      for (const kind of ["sym", "rw", "col"] as const) {
        // normalize the coalesced graph, so that each dense entry is one
        // float32 weight: tolerance of float32 rounding
        const h = normalize(coalesce(c.g), kind);
        expectValid(h);
        expect(h.isWeighted).toBe(true);
        const got = h.toDense();
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            expect(got[i * n + j]).toBeCloseTo(refs[kind](i, j), 6);
          }
        }
      }
    }
  });

  it("rw rows and col columns sum to 1; degree-0 rows stay empty", () => {
    for (const c of cases) {
      const n = c.g.numNodes;
      const rw = normalize(c.g, "rw").toDense();
      const col = normalize(c.g, "col").toDense();
      const din = c.g.inDegrees();
      const dout = c.g.outDegrees();
      for (let i = 0; i < n; i++) {
        let rowSum = 0;
        let colSum = 0;
        for (let j = 0; j < n; j++) {
          rowSum += rw[i * n + j];
          colSum += col[j * n + i];
        }
        expect(rowSum).toBeCloseTo(din[i] > 0 ? 1 : 0, 6);
        expect(colSum).toBeCloseTo(dout[i] > 0 ? 1 : 0, 6);
        if (din[i] === 0) {
          expect(c.g.rowPtr[i + 1] - c.g.rowPtr[i]).toBe(0);
        }
      }
    }
  });

  it("gives the closed forms of a cycle, a complete graph and a star", () => {
    const n = 6;
    const ring = symmetrize(
      Graph.fromEdges(
        Array.from({ length: n }, (_, i) => i),
        Array.from({ length: n }, (_, i) => (i + 1) % n),
      ),
      { reduce: "max" },
    );
    const sym = normalize(ring, "sym");
    expect(isSymmetric(sym)).toBe(true);
    for (const w of sym.weights as Float32Array) expect(w).toBeCloseTo(0.5, 7);

    const src: number[] = [];
    const dst: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i !== j) {
          src.push(j);
          dst.push(i);
        }
      }
    }
    const complete = normalize(Graph.fromEdges(src, dst), "sym");
    for (const w of complete.weights as Float32Array) {
      expect(w).toBeCloseTo(1 / (n - 1), 7);
    }

    // star: centre 0 with leaves 1..5, both ways
    const leaves = [1, 2, 3, 4, 5];
    const star = Graph.fromEdges(
      [...leaves, ...leaves.map(() => 0)],
      [...leaves.map(() => 0), ...leaves],
    );
    for (const w of normalize(star, "sym").weights as Float32Array) {
      expect(w).toBeCloseTo(1 / Math.sqrt(5), 7);
    }
    const rw = normalize(star, "rw");
    for (let e = 0; e < rw.numEdges; e++) {
      expect(rw.weight(e)).toBeCloseTo(rw.dst[e] === 0 ? 1 / 5 : 1, 7);
    }
  });

  it("never produces NaN: zero degrees give zero weights", () => {
    // 0 -> 1 only: node 0 has in-degree 0 but an out-edge
    const g = Graph.fromEdges([0], [1]);
    expect(Array.from(normalize(g, "sym").weights as Float32Array)).toEqual([
      0,
    ]);
    expect(Array.from(normalize(g, "rw").weights as Float32Array)).toEqual([1]);
    const zero = Graph.fromEdges([0, 1], [1, 1], { weights: [0, 0] });
    for (const kind of ["sym", "rw", "col"] as const) {
      const h = normalize(zero, kind);
      expect(Array.from(h.weights as Float32Array)).toEqual([0, 0]);
    }
    expect(normalize(Graph.empty(3), "sym").numEdges).toBe(0);
  });

  it("rejects negative degrees for sym and an unknown kind", () => {
    const g = Graph.fromEdges([0], [1], {
      weights: [-1],
      allowNegativeWeights: true,
    });
    expect(() => normalize(g, "sym")).toThrow(GraphError);
    expect(normalize(g, "rw").weight(0)).toBe(1);
    expect(() => normalize(g, "l2" as "sym")).toThrow(GraphError);
  });
});

describe("degrees", () => {
  it("sums or counts edges in and out", () => {
    for (const c of cases) {
      const n = c.g.numNodes;
      const ref = {
        in: new Array<number>(n).fill(0),
        out: new Array<number>(n).fill(0),
        inCount: new Array<number>(n).fill(0),
        outCount: new Array<number>(n).fill(0),
      };
      for (let e = 0; e < c.src.length; e++) {
        ref.in[c.dst[e]] += c.w[e];
        ref.out[c.src[e]] += c.w[e];
        ref.inCount[c.dst[e]]++;
        ref.outCount[c.src[e]]++;
      }
      const d = (direction: "in" | "out", weighted: boolean) =>
        Array.from(degrees(c.g, { direction, weighted }));
      expect(Array.from(degrees(c.g))).toEqual(ref.in);
      expect(d("out", true)).toEqual(ref.out);
      expect(d("in", false)).toEqual(ref.inCount);
      expect(d("out", false)).toEqual(ref.outCount);
    }
  });

  it("returns a copy that callers may change", () => {
    const g = Graph.fromEdges([0], [1]);
    degrees(g)[1] = 42;
    expect(degrees(g)[1]).toBe(1);
    expect(g.inDegrees()[1]).toBe(1);
  });
});

describe("inducedSubgraph", () => {
  it("equals M[nodes][:, nodes] and keeps duplicates in order", () => {
    const rng = mulberry32(11);
    for (const c of cases) {
      const n = c.g.numNodes;
      const perm = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = randInt(rng, 0, i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const nodes = perm.slice(0, randInt(rng, 0, n + 1));
      const k = nodes.length;
      const { graph, nodeIds } = inducedSubgraph(c.g, nodes);
      expectValid(graph);
      expect(Array.from(nodeIds)).toEqual(nodes);
      expect(graph.isWeighted).toBe(c.g.isWeighted);
      const m = c.g.toDense();
      const ref = new Array<number>(k * k);
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) ref[i * k + j] = m[nodes[i] * n + nodes[j]];
      }
      expect(Array.from(graph.toDense())).toEqual(ref);
    }

    // tags as weights show the order of duplicates
    const g = Graph.fromEdges([2, 2, 0, 2], [1, 1, 1, 0], {
      weights: [1, 2, 3, 4],
    });
    const { graph } = inducedSubgraph(g, [1, 2]);
    expect(Array.from(graph.src)).toEqual([1, 1]);
    expect(Array.from(graph.weights as Float32Array)).toEqual([1, 2]);
  });

  it("rejects repeated, out-of-range and non-integer ids", () => {
    const g = Graph.fromEdges([0, 1], [1, 2]);
    for (const nodes of [[0, 0], [3], [-1], [0.5], [Number.NaN]]) {
      expect(() => inducedSubgraph(g, nodes)).toThrow(GraphError);
    }
  });
});

describe("isSymmetric and reverse", () => {
  it("isSymmetric agrees with the dense test", () => {
    const small = randomCases(13, 200).filter((c) => c.g.numNodes <= 3);
    let symmetric = 0;
    for (const c of small) {
      const n = c.g.numNodes;
      const m = c.g.toDense();
      let ref = true;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (m[i * n + j] !== m[j * n + i]) ref = false;
        }
      }
      if (ref) symmetric++;
      expect(isSymmetric(c.g)).toBe(ref);
    }
    // the sample must hold both kinds for this test to mean anything
    expect(symmetric).toBeGreaterThan(0);
    expect(symmetric).toBeLessThan(small.length);
  });

  it("compares sums of duplicates, with a tolerance", () => {
    const g = Graph.fromEdges([0, 0, 1], [1, 1, 0], { weights: [1, 2, 3] });
    expect(isSymmetric(g)).toBe(true);
    const h = Graph.fromEdges([0, 1], [1, 0], { weights: [1, 1.25] });
    expect(isSymmetric(h)).toBe(false);
    expect(isSymmetric(h, 0.25)).toBe(true);
    expect(isSymmetric(h, 0.2)).toBe(false);
    // tol = 0 means exact: one float32 ulp of 1e-3 (about 1e-10) counts
    const a = Math.fround(1e-3);
    const ulp = new Float32Array(
      new Int32Array([new Int32Array(Float32Array.from([a]).buffer)[0] + 1])
        .buffer,
    )[0];
    const tiny = Graph.fromEdges([0, 1], [1, 0], { weights: [a, ulp] });
    expect(isSymmetric(tiny)).toBe(false);
    expect(isSymmetric(tiny, 1e-9)).toBe(true);
    // an explicit zero weight equals a missing edge
    const z = Graph.fromEdges([0], [1], { weights: [0] });
    expect(isSymmetric(z)).toBe(true);
    expect(() => isSymmetric(h, -1)).toThrow(GraphError);
    expect(() => isSymmetric(h, Number.NaN)).toThrow(GraphError);
  });

  it("reverse is the transpose and an involution", () => {
    for (const c of cases) {
      const n = c.g.numNodes;
      const m = c.g.toDense();
      const r = reverse(c.g);
      expectValid(r);
      const got = r.toDense();
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          expect(got[i * n + j]).toBe(m[j * n + i]);
        }
      }
      const rr = reverse(r);
      expect(Array.from(rr.rowPtr)).toEqual(Array.from(c.g.rowPtr));
      expect(Array.from(rr.colIdx)).toEqual(Array.from(c.g.colIdx));
      expect(rr.weights === null ? null : Array.from(rr.weights)).toEqual(
        c.g.weights === null ? null : Array.from(c.g.weights),
      );
    }
  });
});

describe("purity", () => {
  it("no transform changes its input", () => {
    for (const c of cases.slice(0, 20)) {
      const before = {
        rowPtr: Array.from(c.g.rowPtr),
        colIdx: Array.from(c.g.colIdx),
        weights: c.g.weights === null ? null : Array.from(c.g.weights),
      };
      addSelfLoops(c.g, { weight: 2 });
      removeSelfLoops(c.g);
      coalesce(c.g, { reduce: "mean" });
      symmetrize(c.g);
      normalize(c.g, "sym");
      normalize(c.g, "rw");
      normalize(c.g, "col");
      inducedSubgraph(c.g, [0]);
      isSymmetric(c.g);
      reverse(c.g);
      expect(Array.from(c.g.rowPtr)).toEqual(before.rowPtr);
      expect(Array.from(c.g.colIdx)).toEqual(before.colIdx);
      expect(c.g.weights === null ? null : Array.from(c.g.weights)).toEqual(
        before.weights,
      );
    }
  });
});
