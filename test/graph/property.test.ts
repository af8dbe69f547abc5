/**
 * Property tests (fast-check, fixed seeds): random and malformed input
 * thrown at every builder and loader. Each call must either return a
 * valid graph that matches an independent model of its input, or throw
 * the library's own error (GraphError, or GraphFormatError with the line
 * the model expects), exactly when the model says the input is invalid.
 * Never another error type, never a silently wrong graph.
 */

import fc, { type IRawProperty } from "fast-check";
import Graphology from "graphology";
import { describe, expect, it } from "vitest";
import { GraphError, GraphFormatError } from "../../src/errors.js";
import {
  type AdjacencyMatrixInput,
  graphFromDense,
  graphFromGraphology,
  graphToGraphology,
} from "../../src/graph/builders.js";
import { Graph } from "../../src/graph/graph.js";
import { formatEdgeList, parseEdgeList } from "../../src/graph/io.js";
import { coalesce, symmetrize } from "../../src/graph/transforms.js";

const SEED = 20240611;
const RUNS = 400;

// ---------------------------------------------------------------------------
// shared checks

/** Throw unless `g` keeps every invariant of a Graph. */
function checkInvariants(g: Graph, allowNegative: boolean): void {
  const fail = (what: string) => {
    throw new Error(`invalid graph ${g}: ${what}`);
  };
  const n = g.numNodes;
  if (!Number.isInteger(n) || n < 0) fail("numNodes");
  if (!(g.rowPtr instanceof Int32Array) || g.rowPtr.length !== n + 1) {
    fail("rowPtr length");
  }
  if (g.rowPtr[0] !== 0 || g.rowPtr[n] !== g.numEdges) fail("rowPtr ends");
  if (g.colIdx.length !== g.numEdges) fail("colIdx length");
  for (let i = 0; i < n; i++) {
    if (g.rowPtr[i + 1] < g.rowPtr[i]) fail(`rowPtr not monotone at ${i}`);
    for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
      const j = g.colIdx[e];
      if (j < 0 || j >= n) fail(`colIdx[${e}] = ${j} out of range`);
      if (e > g.rowPtr[i] && g.colIdx[e - 1] > j) fail(`row ${i} unsorted`);
    }
  }
  if (g.weights !== null) {
    if (!(g.weights instanceof Float32Array)) fail("weights type");
    if (g.weights.length !== g.numEdges) fail("weights length");
    for (const w of g.weights) {
      if (!Number.isFinite(w)) fail(`weight ${w} not finite`);
      if (!allowNegative && w < 0) fail(`weight ${w} negative`);
    }
  }
}

/** Run `f` and return its value or the error it threw. */
function attempt<T>(f: () => T): { value: T } | { error: unknown } {
  try {
    return { value: f() };
  } catch (error) {
    return { error };
  }
}

/** Whether a float64 value is a finite float32 once stored. */
const finite32 = (v: unknown): v is number =>
  typeof v === "number" && Number.isFinite(Math.fround(v));

/** A sparse dense-matrix model: `M[dst][src]` sums, keyed `dst,src`. */
type Model = Map<string, number>;

function addTo(model: Model, dst: number, src: number, w: number): void {
  const key = `${dst},${src}`;
  model.set(key, (model.get(key) ?? 0) + w);
}

/** The sparse dense-matrix model of a graph (zeros dropped). */
function modelOf(g: Graph): Model {
  const model: Model = new Map();
  for (let e = 0; e < g.numEdges; e++) {
    addTo(model, g.dst[e], g.src[e], g.weight(e));
  }
  for (const [k, v] of model) if (v === 0) model.delete(k);
  return model;
}

/** Drop the zero entries of a model, so models compare as matrices. */
function dropZeros(model: Model): Model {
  for (const [k, v] of model) if (v === 0) model.delete(k);
  return model;
}

/** Sorted `src dst w` strings of a graph. */
function edgeStrings(g: Graph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.numEdges; e++) {
    out.push(`${g.src[e]} ${g.dst[e]} ${g.weight(e)}`);
  }
  return out.sort();
}

/** Check a property on RUNS inputs drawn from the fixed seed. */
function run<Ts>(property: IRawProperty<Ts>): void {
  fc.assert(property, { seed: SEED, numRuns: RUNS });
}

// ---------------------------------------------------------------------------
// arbitraries

/** Rare: true with probability 1 / (odds + 1). */
const rarely = (odds: number) =>
  fc.oneof(
    { weight: odds, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  );

/** Values that may sit where a node id belongs, valid or not. */
const oddIds = fc.constantFrom(
  -1,
  -0,
  0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 31,
  2 ** 31 - 1,
  1e300,
);

/** Values that may sit where a weight belongs, valid or not. */
const oddWeights = fc.constantFrom(
  -1,
  -0,
  0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e39,
  -1e39,
  3.4028234663852886e38,
  1e-46,
);

/**
 * One odd value planted at a random position of a random array, half
 * the time: inputs with a single defect are the most telling.
 */
const poisonArb = fc.option(
  fc.record({
    target: fc.constantFrom("src", "dst", "weights"),
    at: fc.nat(),
    id: oddIds,
    weight: oddWeights,
  }),
  { freq: 2 },
);

// ---------------------------------------------------------------------------
// Graph.fromEdges and Graph.fromCSR

describe("Graph.fromEdges on random input", () => {
  it("returns the model's graph or throws GraphError", () => {
    const arb = fc.record({
      src: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 20 }),
      dst: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 20 }),
      sameLength: rarely(10).map((b) => !b),
      weightsAligned: rarely(10).map((b) => !b),
      numNodes: fc.option(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(8, 12) },
          { weight: 1, arbitrary: fc.constantFrom(0, 1, 5, -1, 2.5) },
        ),
        { freq: 2 },
      ),
      weights: fc.option(
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), {
          maxLength: 20,
        }),
        { freq: 2 },
      ),
      poison: poisonArb,
      allowNegativeWeights: fc.boolean(),
    });
    run(
      fc.property(arb, (input) => {
        const src: number[] = [...input.src];
        const dst: number[] = input.sameLength
          ? input.dst.concat(src.map(() => 0)).slice(0, src.length)
          : [...input.dst];
        const m = src.length;
        const weights =
          input.weights === null || !input.weightsAligned
            ? input.weights && [...input.weights]
            : input.weights.concat(src.map(() => 1)).slice(0, src.length);
        const numNodes = input.numNodes ?? undefined;
        const poison = input.poison;
        if (poison !== null) {
          const a =
            poison.target === "src"
              ? src
              : poison.target === "dst"
                ? dst
                : weights;
          const value = poison.target === "weights" ? poison.weight : poison.id;
          if (a !== null && a.length > 0) a[poison.at % a.length] = value;
        }

        // the model: is this input valid, and which graph is it?
        const isId = (v: number) =>
          Number.isInteger(v) && v >= 0 && v <= 0x7fffffff;
        let valid = dst.length === m && src.every(isId) && dst.every(isId);
        const maxId = Math.max(-1, ...src.map(Number), ...dst.map(Number));
        const n = numNodes ?? maxId + 1;
        valid = valid && isId(n) && maxId < n;
        if (weights !== null) {
          valid =
            valid &&
            weights.length === m &&
            weights.every(
              (w) => finite32(w) && (input.allowNegativeWeights || w >= 0),
            );
        }

        const out = attempt(() =>
          Graph.fromEdges(src, dst, {
            numNodes,
            weights,
            allowNegativeWeights: input.allowNegativeWeights,
          }),
        );
        if (!valid) {
          expect("error" in out).toBe(true);
          if ("error" in out) expect(out.error).toBeInstanceOf(GraphError);
          return;
        }
        if ("error" in out) throw out.error;
        const g = out.value;
        checkInvariants(g, input.allowNegativeWeights);
        expect(g.numNodes).toBe(n);
        expect(g.isWeighted).toBe(weights !== null);

        // edges sorted stably by (dst, src), weights rounded to float32
        const order = src
          .map((_, e) => e)
          .sort((a, b) => dst[a] - dst[b] || src[a] - src[b]);
        expect(Array.from(g.src)).toEqual(order.map((e) => src[e] + 0));
        expect(Array.from(g.dst)).toEqual(order.map((e) => dst[e] + 0));
        if (weights !== null) {
          expect(Array.from(g.weights as Float32Array)).toEqual(
            order.map((e) => Math.fround(weights[e])),
          );
        }
      }),
    );
  });
});

describe("Graph.fromCSR on random input", () => {
  /** CSR arrays that are valid before an optional mutation. */
  const validCsr = fc
    .record({
      counts: fc.array(fc.integer({ min: 0, max: 3 }), {
        minLength: 1,
        maxLength: 7,
      }),
      seed: fc.array(fc.nat(), { maxLength: 30 }),
      weighted: fc.boolean(),
    })
    .map(({ counts, seed, weighted }) => {
      const n = counts.length;
      const rowPtr = [0];
      for (const c of counts) rowPtr.push(rowPtr[rowPtr.length - 1] + c);
      const m = rowPtr[n];
      const colIdx = Array.from({ length: m }, (_, e) => (seed[e] ?? e) % n);
      const weights = weighted
        ? Array.from({ length: m }, (_, e) => ((seed[e] ?? 1) % 17) / 4)
        : null;
      return { rowPtr, colIdx, weights };
    });
  const mutation = fc.option(
    fc.record({
      which: fc.constantFrom("rowPtr", "colIdx", "weights"),
      at: fc.nat(),
      value: fc.oneof(
        fc.integer({ min: -3, max: 12 }),
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0.5),
      ),
      drop: fc.boolean(),
    }),
    { freq: 2 },
  );

  it("returns the model's graph or throws GraphError", () => {
    run(
      fc.property(
        validCsr,
        mutation,
        fc.boolean(),
        (csr, mut, allowNegativeWeights) => {
          // apply the mutation to plain copies
          const arrays = {
            rowPtr: [...csr.rowPtr],
            colIdx: [...csr.colIdx],
            weights: csr.weights === null ? null : [...csr.weights],
          };
          if (mut !== null) {
            const a = arrays[mut.which as keyof typeof arrays];
            if (a !== null && mut.drop && a.length > 0) {
              a.splice(mut.at % a.length, 1);
            } else if (a !== null && a.length > 0) {
              a[mut.at % a.length] = mut.value;
            }
          }
          const rowPtr = Int32Array.from(arrays.rowPtr);
          const colIdx = Int32Array.from(arrays.colIdx);
          const weights =
            arrays.weights === null ? null : Float32Array.from(arrays.weights);

          // the model, on what the typed arrays actually hold
          const n = rowPtr.length - 1;
          const m = colIdx.length;
          let valid = n >= 0 && rowPtr[0] === 0 && rowPtr[n] === m;
          for (let i = 0; valid && i < n; i++) {
            valid = rowPtr[i + 1] >= rowPtr[i];
          }
          valid = valid && colIdx.every((j) => j >= 0 && j < n);
          if (weights !== null) {
            valid =
              valid &&
              weights.length === m &&
              weights.every(
                (w) => Number.isFinite(w) && (allowNegativeWeights || w >= 0),
              );
          }
          const rows: Array<Array<[number, number]>> = [];
          if (valid) {
            for (let i = 0; i < n; i++) {
              const row: Array<[number, number]> = [];
              for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
                row.push([colIdx[e], weights === null ? 1 : weights[e]]);
              }
              rows.push(row.sort((a, b) => a[0] - b[0]));
            }
          }

          const out = attempt(() =>
            Graph.fromCSR(rowPtr, colIdx, weights, { allowNegativeWeights }),
          );
          if (!valid) {
            expect("error" in out).toBe(true);
            if ("error" in out) expect(out.error).toBeInstanceOf(GraphError);
            return;
          }
          if ("error" in out) throw out.error;
          const g = out.value;
          checkInvariants(g, allowNegativeWeights);
          expect(g.numNodes).toBe(n);
          for (let i = 0; i < n; i++) {
            const got: Array<[number, number]> = [];
            for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
              got.push([g.colIdx[e], g.weight(e)]);
            }
            expect(got).toEqual(rows[i]);
          }
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------
// graphFromDense

describe("graphFromDense on random input", () => {
  const nested = fc
    .record({
      n: fc.integer({ min: 0, max: 5 }),
      cells: fc.array(fc.constantFrom(0, 0, 0, 1, 2.5, 0.1), {
        minLength: 25,
        maxLength: 25,
      }),
      odd: fc.option(
        fc.record({
          at: fc.nat(),
          value: fc.constantFrom<unknown>(
            -1,
            -2.5,
            -0,
            Number.NaN,
            Number.POSITIVE_INFINITY,
            1e39,
            "1",
            null,
            undefined,
          ),
        }),
        { freq: 2 },
      ),
      ragged: fc.oneof(
        { weight: 8, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 }) },
      ),
    })
    .map(({ n, cells, odd, ragged }) => {
      const rows: unknown[][] = [];
      for (let i = 0; i < n; i++) rows.push(cells.slice(i * 5, i * 5 + n));
      if (odd !== null && n > 0) {
        const at = odd.at % (n * n);
        rows[Math.floor(at / n)][at % n] = odd.value;
      }
      if (ragged !== null && n > 0) rows[ragged % n].length = ragged;
      return rows as unknown as AdjacencyMatrixInput;
    });
  const typed = fc
    .record({
      rows: fc.constantFrom(0, 1, 2, 3, -1, 2.5),
      cols: fc.constantFrom(0, 1, 2, 3),
      cells: fc.array(
        fc.oneof(
          fc.constantFrom(0, 0, 1, 3),
          fc.constantFrom(-2, Number.NaN, Number.POSITIVE_INFINITY, 1e39),
        ),
        { maxLength: 10 },
      ),
      f32: fc.boolean(),
    })
    .map(({ rows, cols, cells, f32 }) => ({
      rows,
      cols,
      data: f32 ? Float32Array.from(cells) : Float64Array.from(cells),
    }));

  it("returns the model's graph or throws GraphError", () => {
    run(
      fc.property(
        fc.oneof(nested, typed),
        fc.constantFrom<"auto" | boolean>("auto", true, false),
        fc.boolean(),
        (matrix, weighted, allowNegativeWeights) => {
          // the model: square, every entry a finite number
          let n = 0;
          let at: (i: number, j: number) => unknown = () => 0;
          let valid = true;
          if (Array.isArray(matrix)) {
            n = matrix.length;
            valid = matrix.every((r) => Array.isArray(r) && r.length === n);
            at = (i, j) => matrix[i][j];
          } else {
            n = matrix.rows;
            valid =
              Number.isInteger(n) &&
              n >= 0 &&
              matrix.cols === n &&
              matrix.data.length === n * n;
            at = (i, j) => matrix.data[i * n + j];
          }
          const model: Model = new Map();
          let allOnes = true;
          for (let i = 0; valid && i < n; i++) {
            for (let j = 0; valid && j < n; j++) {
              const v = at(i, j);
              valid = finite32(v) && (allowNegativeWeights || v >= 0);
              if (valid && v !== 0) {
                const w = weighted === false ? 1 : Math.fround(v as number);
                if (v !== 1) allOnes = false;
                addTo(model, i, j, w);
              }
            }
          }

          const out = attempt(() =>
            graphFromDense(matrix, { weighted, allowNegativeWeights }),
          );
          if (!valid) {
            expect("error" in out).toBe(true);
            if ("error" in out) expect(out.error).toBeInstanceOf(GraphError);
            return;
          }
          if ("error" in out) throw out.error;
          const g = out.value;
          checkInvariants(g, allowNegativeWeights);
          expect(g.numNodes).toBe(n);
          expect(g.numEdges).toBe(model.size);
          expect(modelOf(g)).toEqual(model);
          expect(g.isWeighted).toBe(
            weighted === true || (weighted === "auto" && !allOnes),
          );
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------
// graphFromGraphology

describe("graphFromGraphology on random input", () => {
  const edgeArb = fc.record({
    s: fc.integer({ min: 0, max: 5 }),
    t: fc.integer({ min: 0, max: 5 }),
    undirected: fc.boolean(),
    weight: fc.oneof(
      { weight: 3, arbitrary: fc.constant<unknown>(undefined) },
      { weight: 6, arbitrary: fc.constantFrom<unknown>(1, 2, 0.5, 0) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<unknown>(
          -1,
          Number.NaN,
          Number.POSITIVE_INFINITY,
          1e39,
          "2",
          null,
          true,
          {},
        ),
      },
    ),
  });
  const specArb = fc.record({
    type: fc.constantFrom<"mixed" | "directed" | "undirected">(
      "mixed",
      "directed",
      "undirected",
    ),
    multi: fc.boolean(),
    numNodes: fc.integer({ min: 0, max: 6 }),
    edges: fc.array(edgeArb, { maxLength: 14 }),
    nodeOrder: fc.constantFrom("none", "reversed", "missing", "twice"),
    allowNegativeWeights: fc.boolean(),
  });

  it("returns the model's graph or throws GraphError", () => {
    run(
      fc.property(specArb, (spec) => {
        // build the graphology graph, skipping edges it cannot hold
        const g = new Graphology({ type: spec.type, multi: spec.multi });
        const key = (i: number) => `n${(i * 7) % 11}`;
        for (let i = 0; i < spec.numNodes; i++) g.addNode(key(i));
        let k = 0;
        for (const e of spec.edges) {
          if (e.s >= spec.numNodes || e.t >= spec.numNodes) continue;
          const undirected =
            spec.type === "mixed" ? e.undirected : spec.type === "undirected";
          const [s, t] = [key(e.s), key(e.t)];
          const exists = undirected
            ? g.hasUndirectedEdge(s, t)
            : g.hasDirectedEdge(s, t);
          if (exists && !spec.multi) continue;
          const attrs = e.weight === undefined ? {} : { weight: e.weight };
          if (undirected) g.addUndirectedEdgeWithKey(`e${k++}`, s, t, attrs);
          else g.addDirectedEdgeWithKey(`e${k++}`, s, t, attrs);
        }
        const nodes = g.nodes();
        const nodeOrder =
          spec.nodeOrder === "none"
            ? undefined
            : spec.nodeOrder === "reversed"
              ? [...nodes].reverse()
              : spec.nodeOrder === "missing"
                ? nodes.slice(1)
                : [...nodes, nodes[0]];

        // the model
        const order = nodeOrder ?? nodes;
        const index = new Map(order.map((v, i) => [v, i]));
        let valid =
          nodeOrder === undefined ||
          spec.nodeOrder === "reversed" ||
          (spec.nodeOrder === "missing" && nodes.length === 0);
        let anyWeight = false;
        const model: Model = new Map();
        g.forEachEdge((_key, attrs, s, t, _sa, _ta, undirected) => {
          const raw: unknown = attrs.weight;
          if (raw !== undefined) {
            anyWeight = true;
            if (!finite32(raw) || (raw < 0 && !spec.allowNegativeWeights)) {
              valid = false;
              return;
            }
          }
          const w = raw === undefined ? 1 : Math.fround(raw as number);
          const [si, ti] = [index.get(s) as number, index.get(t) as number];
          addTo(model, ti, si, w);
          if (undirected && si !== ti) addTo(model, si, ti, w);
        });

        const out = attempt(() =>
          graphFromGraphology(g, {
            nodeOrder,
            allowNegativeWeights: spec.allowNegativeWeights,
          }),
        );
        if (!valid) {
          expect("error" in out).toBe(true);
          if ("error" in out) expect(out.error).toBeInstanceOf(GraphError);
          return;
        }
        if ("error" in out) throw out.error;
        const { graph, nodeIds } = out.value;
        checkInvariants(graph, spec.allowNegativeWeights);
        expect(nodeIds).toEqual(order);
        expect(graph.numNodes).toBe(g.order);
        expect(graph.isWeighted).toBe(anyWeight);
        expect(modelOf(graph)).toEqual(dropZeros(model));
      }),
    );
  });

  it("round-trips through graphToGraphology", () => {
    const graphArb = fc
      .record({
        n: fc.integer({ min: 1, max: 6 }),
        edges: fc.array(
          fc.tuple(fc.nat(5), fc.nat(5), fc.integer({ min: 0, max: 8 })),
          { maxLength: 15 },
        ),
        weighted: fc.boolean(),
      })
      .map(({ n, edges, weighted }) =>
        Graph.fromEdges(
          edges.map((e) => e[0] % n),
          edges.map((e) => e[1] % n),
          { numNodes: n, weights: weighted ? edges.map((e) => e[2]) : null },
        ),
      );
    run(
      fc.property(graphArb, (g) => {
        const directed = graphFromGraphology(graphToGraphology(g)).graph;
        expect(edgeStrings(directed)).toEqual(edgeStrings(g));
        const s = symmetrize(g, { reduce: "max" });
        const u = graphToGraphology(s, { type: "undirected" });
        expect(edgeStrings(graphFromGraphology(u).graph)).toEqual(
          edgeStrings(s),
        );
      }),
    );
  });
});

// ---------------------------------------------------------------------------
// parseEdgeList

/**
 * An independent reading of the edge-list format, line by line with a Map
 * of pairs: the error line it expects, or the edges of the graph.
 */
function referenceParse(
  text: string,
  directed: boolean,
  weighted: "auto" | boolean,
  numNodes: number | undefined,
):
  | { errorLine: number }
  | { edges: Array<[number, number, number]>; n: number; hasW: boolean } {
  let mode: boolean | null = weighted === "auto" ? null : weighted;
  const lines = text.split(/\r\n|\n|\r/);
  const rows: Array<[number, number, number, number]> = [];
  let maxId = -1;
  for (let k = 0; k < lines.length; k++) {
    const content = lines[k].split("#")[0].trim();
    if (content === "") continue;
    const f = content.split(/\s+/);
    const bad = { errorLine: k + 1 };
    if (f.length < 2 || f.length > 3) return bad;
    mode ??= f.length === 3;
    if (mode !== (f.length === 3)) return bad;
    const ids = f.slice(0, 2).map((t) => (/^[0-9]+$/.test(t) ? +t : -1));
    const limit = Math.min(numNodes ?? 2 ** 31 - 1, 2 ** 31 - 1);
    if (ids.some((v) => v < 0 || v >= limit)) return bad;
    let w = 1;
    if (mode) {
      const ok = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
      w = ok.test(f[2]) ? Number(f[2]) : Number.NaN;
      if (!finite32(w) || w < 0) return bad;
    }
    maxId = Math.max(maxId, ids[0], ids[1]);
    rows.push([ids[0], ids[1], w, k + 1]);
  }
  const n = numNodes ?? maxId + 1;
  if (directed) {
    return { edges: rows.map(([u, v, w]) => [u, v, w]), n, hasW: !!mode };
  }
  const seen = new Map<string, number>();
  const edges: Array<[number, number, number]> = [];
  for (const [u, v, w, line] of rows) {
    const key = `${Math.min(u, v)} ${Math.max(u, v)}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, w);
      edges.push([u, v, w]);
      if (u !== v) edges.push([v, u, w]);
    } else if (first !== w) {
      return { errorLine: line };
    }
  }
  return { edges, n, hasW: !!mode };
}

describe("parseEdgeList on random text", () => {
  const goodId = fc.integer({ min: 0, max: 6 }).map(String);
  const badId = fc.constantFrom(
    "-1",
    "1.5",
    "a",
    "+2",
    "1e2",
    "0x1",
    "2147483647",
    "99999999999999999999",
    "\u0663",
    "\uff11",
  );
  const goodWeight = fc.constantFrom("1", "2.5", "0", ".5", "5.", "1E-3");
  const badWeight = fc.constantFrom(
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "-1",
    "1e39",
    "1e400",
    "0x10",
    "1,5",
    "1..2",
    "e5",
  );
  const space = fc.constantFrom(" ", "  ", "\t", " \t ");
  /**
   * A line as a function of the file's weight mode: mostly a good edge
   * line of that mode, rarely with a bad token or the other mode, a
   * comment, a blank line, or junk.
   */
  const lineArb = fc.oneof(
    {
      weight: 30,
      arbitrary: fc
        .record({
          u: fc.oneof({ weight: 80, arbitrary: goodId }, badId),
          v: fc.oneof({ weight: 80, arbitrary: goodId }, badId),
          w: fc.oneof({ weight: 80, arbitrary: goodWeight }, badWeight),
          flip: rarely(60),
          gap: space,
          lead: fc.constantFrom("", " ", "\t"),
          comment: fc.constantFrom("", " # note 1 2", "#3 4"),
        })
        .map(
          (l) => (mode: boolean) =>
            l.lead +
            [l.u, l.v, ...(mode !== l.flip ? [l.w] : [])].join(l.gap) +
            l.comment,
        ),
    },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom("", "   ", "# comment", "#")
        .map((c) => () => c),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.constantFrom("1", "1 2 3 4", "1 2 3 # x", "x y z"),
          fc.string({ maxLength: 8 }),
        )
        .map((c) => () => c),
    },
  );
  const textArb = fc.record({
    lines: fc.array(lineArb, { maxLength: 12 }),
    mode: fc.boolean(),
    eol: fc.constantFrom("\n", "\r\n", "\r"),
    trailing: fc.boolean(),
  });

  it("matches an independent reader, errors and lines included", () => {
    run(
      fc.property(
        textArb,
        fc.boolean(),
        fc.constantFrom<"auto" | boolean>("auto", true, false),
        fc.option(fc.constantFrom(0, 3, 7, 10), { freq: 2 }),
        (t, directed, weighted, numNodesOrNull) => {
          const mode = weighted === "auto" ? t.mode : weighted;
          const text =
            t.lines.map((line) => line(mode)).join(t.eol) +
            (t.trailing ? t.eol : "");
          const numNodes = numNodesOrNull ?? undefined;
          const ref = referenceParse(text, directed, weighted, numNodes);
          const out = attempt(() =>
            parseEdgeList(text, { path: "p", directed, weighted, numNodes }),
          );
          if ("errorLine" in ref) {
            expect("error" in out).toBe(true);
            if (!("error" in out)) return;
            expect(out.error).toBeInstanceOf(GraphFormatError);
            expect((out.error as GraphFormatError).line).toBe(ref.errorLine);
            expect((out.error as GraphFormatError).path).toBe("p");
            return;
          }
          if ("error" in out) throw out.error;
          const g = out.value;
          checkInvariants(g, false);
          expect(g.numNodes).toBe(ref.n);
          expect(g.isWeighted).toBe(ref.hasW);
          const want = ref.edges
            .map(([u, v, w]) => `${u} ${v} ${Math.fround(w)}`)
            .sort();
          expect(edgeStrings(g)).toEqual(want);
        },
      ),
    );
  });

  it("reads back what formatEdgeList writes", () => {
    const graphArb = fc
      .record({
        n: fc.integer({ min: 1, max: 6 }),
        edges: fc.array(
          fc.tuple(
            fc.nat(5),
            fc.nat(5),
            fc.double({ min: 0, max: 1e6, noNaN: true }).map((w) => w + 0),
          ),
          { maxLength: 15 },
        ),
        weighted: fc.boolean(),
      })
      .map(({ n, edges, weighted }) =>
        Graph.fromEdges(
          edges.map((e) => e[0] % n),
          edges.map((e) => e[1] % n),
          { numNodes: n, weights: weighted ? edges.map((e) => e[2]) : null },
        ),
      );
    run(
      fc.property(graphArb, (g) => {
        const n = g.numNodes;
        const d = parseEdgeList(formatEdgeList(g, { directed: true }), {
          directed: true,
          numNodes: n,
        });
        expect(Array.from(d.colIdx)).toEqual(Array.from(g.colIdx));
        if (g.numEdges > 0) {
          expect(d.isWeighted).toBe(g.isWeighted);
          for (let e = 0; e < g.numEdges; e++) {
            expect(d.weight(e)).toBe(g.weight(e));
          }
        }
        const s = coalesce(symmetrize(g, { reduce: "max" }));
        const u = parseEdgeList(formatEdgeList(s), { numNodes: n });
        expect(edgeStrings(u)).toEqual(edgeStrings(s));
      }),
    );
  });
});
