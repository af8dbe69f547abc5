/**
 * Builders: dense matrices in both layouts, and graphology graphs in both
 * directions, with round trips on seeded random graphs.
 */

import Graphology from "graphology";
import { describe, expect, it } from "vitest";
import { GraphError } from "../../src/errors.js";
import {
  graphFromDense,
  graphFromGraphology,
  graphToGraphology,
  undirectedEdges,
} from "../../src/graph/builders.js";
import { Graph } from "../../src/graph/graph.js";
import { coalesce, symmetrize } from "../../src/graph/transforms.js";
import { mulberry32, randInt, randomEdges } from "../helpers/random.js";

/** Random weighted or unweighted multigraphs with loops. */
function randomGraphs(seed: number, count: number): Graph[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const n = randInt(rng, 1, 8);
    const m = randInt(rng, 0, 3 * n);
    const { src, dst, weights } = randomEdges(rng, {
      numNodes: n,
      numEdges: m,
      weighted: rng() < 0.5,
    });
    return Graph.fromEdges(src, dst, { numNodes: n, weights });
  });
}

/** The edges as sorted `src dst w` strings: equal for equal multigraphs. */
function edgeMultiset(g: Graph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.numEdges; e++) {
    out.push(`${g.src[e]} ${g.dst[e]} ${g.weight(e)}`);
  }
  return out.sort();
}

describe("graphFromDense", () => {
  it("reads M[i][j] as the edge j -> i, in both layouts", () => {
    const rows = [
      [0, 2, 0],
      [1, 0, 0],
      [0, 0.5, 3],
    ];
    const g = graphFromDense(rows);
    expect(g.numNodes).toBe(3);
    expect(Array.from(g.src)).toEqual([1, 0, 1, 2]);
    expect(Array.from(g.dst)).toEqual([0, 1, 2, 2]);
    expect(Array.from(g.toDense())).toEqual(rows.flat());

    const flat = { data: Float64Array.from(rows.flat()), rows: 3, cols: 3 };
    const h = graphFromDense(flat);
    expect(Array.from(h.toDense())).toEqual(rows.flat());
    const f32 = { data: Float32Array.from(rows.flat()), rows: 3, cols: 3 };
    expect(Array.from(graphFromDense(f32).toDense())).toEqual(rows.flat());
  });

  it("round-trips toDense of random graphs", () => {
    for (const g of randomGraphs(3, 40)) {
      const n = g.numNodes;
      const m = g.toDense();
      const h = graphFromDense({ data: m, rows: n, cols: n });
      expect(Array.from(h.toDense())).toEqual(Array.from(m));
      // duplicates are merged: one edge per non-zero entry
      expect(h.numEdges).toBe(m.filter((v) => v !== 0).length);
    }
  });

  it("chooses weighted or unweighted as asked", () => {
    const binary = [
      [0, 1],
      [1, 1],
    ];
    expect(graphFromDense(binary).isWeighted).toBe(false);
    expect(graphFromDense(binary, { weighted: true }).isWeighted).toBe(true);
    const weighted = [
      [0, 2],
      [1, 0],
    ];
    expect(graphFromDense(weighted).isWeighted).toBe(true);
    const pattern = graphFromDense(weighted, { weighted: false });
    expect(pattern.isWeighted).toBe(false);
    expect(Array.from(pattern.toDense())).toEqual([0, 1, 1, 0]);
    expect(graphFromDense([]).numNodes).toBe(0);
  });

  it("accepts negative entries only when asked", () => {
    const m = [
      [0, -1],
      [1, 0],
    ];
    expect(() => graphFromDense(m)).toThrow(GraphError);
    // even when only the pattern is kept
    expect(() => graphFromDense(m, { weighted: false })).toThrow(GraphError);
    const g = graphFromDense(m, { allowNegativeWeights: true });
    expect(Array.from(g.toDense())).toEqual([0, -1, 1, 0]);
  });

  it("raises GraphError for bad shapes and entries", () => {
    const bad: unknown[] = [
      [[0, 1], [1]],
      [[0, 1]],
      [[0, 1], "ab"],
      [[Number.NaN]],
      [[Number.POSITIVE_INFINITY]],
      [[1e39]],
      [["1"]],
      [[null]],
      { data: new Float64Array(6), rows: 2, cols: 3 },
      { data: new Float64Array(3), rows: 2, cols: 2 },
      { data: new Float64Array(4), rows: 2.5, cols: 2.5 },
      { data: [0, 1, 1, 0], rows: 2, cols: 2 },
      null,
      42,
    ];
    for (const m of bad) {
      expect(() => graphFromDense(m as number[][])).toThrow(GraphError);
    }
  });
});

describe("graphFromGraphology", () => {
  it("turns undirected edges into two, loops and directed edges into one", () => {
    const g = new Graphology({ type: "mixed", multi: true });
    g.addNode("a");
    g.addNode("b");
    g.addNode("c");
    g.addUndirectedEdgeWithKey("ab", "a", "b", { weight: 2 });
    g.addDirectedEdgeWithKey("bc", "b", "c", { weight: 3 });
    g.addDirectedEdgeWithKey("bc2", "b", "c");
    g.addUndirectedEdgeWithKey("cc", "c", "c", { weight: 4 });
    const { graph, nodeIds } = graphFromGraphology(g);
    expect(nodeIds).toEqual(["a", "b", "c"]);
    expect(graph.isWeighted).toBe(true);
    expect(edgeMultiset(graph)).toEqual(
      ["0 1 2", "1 0 2", "1 2 3", "1 2 1", "2 2 4"].sort(),
    );
    // the duplicate b -> c keeps graphology's order
    expect(Array.from(graph.weights as Float32Array)).toEqual([2, 2, 3, 1, 4]);
  });

  it("is unweighted when no edge has the weight attribute", () => {
    const g = new Graphology({ type: "undirected" });
    g.mergeEdge(1, 2, { w: 5 });
    g.mergeEdge(2, 3);
    const plain = graphFromGraphology(g);
    expect(plain.graph.isWeighted).toBe(false);
    expect(plain.nodeIds).toEqual(["1", "2", "3"]);
    expect(plain.graph.numEdges).toBe(4);
    const custom = graphFromGraphology(g, { weightAttribute: "w" });
    expect(custom.graph.isWeighted).toBe(true);
    expect(edgeMultiset(custom.graph)).toEqual(
      ["0 1 5", "1 0 5", "1 2 1", "2 1 1"].sort(),
    );
  });

  it("numbers the nodes in nodeOrder", () => {
    const g = new Graphology({ type: "directed" });
    g.mergeEdge("x", "y");
    g.addNode("z");
    const { graph, nodeIds } = graphFromGraphology(g, {
      nodeOrder: ["z", "y", "x"],
    });
    expect(nodeIds).toEqual(["z", "y", "x"]);
    expect(graph.numNodes).toBe(3);
    expect(Array.from(graph.src)).toEqual([2]);
    expect(Array.from(graph.dst)).toEqual([1]);
    for (const nodeOrder of [
      ["x", "y"],
      ["x", "y", "y"],
      ["x", "y", "w"],
    ]) {
      expect(() => graphFromGraphology(g, { nodeOrder })).toThrow(GraphError);
    }
  });

  it("names the edge of a bad weight", () => {
    for (const weight of ["2", null, Number.NaN, Infinity, -1, 1e39, {}]) {
      const g = new Graphology();
      g.mergeEdgeWithKey("the-edge", "a", "b", { weight });
      expect(() => graphFromGraphology(g)).toThrow(GraphError);
      expect(() => graphFromGraphology(g)).toThrow(/the-edge/);
    }
    const g = new Graphology();
    g.mergeEdgeWithKey("neg", "a", "b", { weight: -2 });
    const { graph } = graphFromGraphology(g, { allowNegativeWeights: true });
    expect(graph.weight(0)).toBe(-2);
    expect(() => graphFromGraphology({} as Graphology)).toThrow(GraphError);
  });
});

describe("graphToGraphology", () => {
  it("round-trips directed multigraphs with their weights", () => {
    for (const g of randomGraphs(5, 40)) {
      const out = graphToGraphology(g);
      expect(out.type).toBe("directed");
      expect(out.order).toBe(g.numNodes);
      expect(out.size).toBe(g.numEdges);
      const back = graphFromGraphology(out).graph;
      // without edges, no edge carries a weight attribute
      expect(back.isWeighted).toBe(g.isWeighted && g.numEdges > 0);
      expect(Array.from(back.rowPtr)).toEqual(Array.from(g.rowPtr));
      expect(Array.from(back.colIdx)).toEqual(Array.from(g.colIdx));
      // duplicates come back in their CSR order
      for (let e = 0; e < g.numEdges; e++) {
        expect(back.weight(e)).toBe(g.weight(e));
      }
    }
  });

  it("round-trips symmetric graphs as undirected graphs", () => {
    for (const g of randomGraphs(6, 40)) {
      for (const s of [symmetrize(g), coalesce(symmetrize(g))]) {
        const out = graphToGraphology(s, { type: "undirected" });
        expect(out.type).toBe("undirected");
        let loops = 0;
        for (let e = 0; e < s.numEdges; e++) {
          if (s.src[e] === s.dst[e]) loops++;
        }
        expect(out.size).toBe((s.numEdges - loops) / 2 + loops);
        const back = graphFromGraphology(out).graph;
        expect(Array.from(back.toDense())).toEqual(Array.from(s.toDense()));
        expect(edgeMultiset(back)).toEqual(edgeMultiset(s));
      }
    }
  });

  it("builds a multi graph exactly when a pair repeats", () => {
    expect(graphToGraphology(Graph.fromEdges([0, 0], [1, 1])).multi).toBe(true);
    expect(graphToGraphology(Graph.fromEdges([0, 1], [1, 0])).multi).toBe(
      false,
    );
    const twice = Graph.fromEdges([0, 0, 1, 1], [1, 1, 0, 0], {
      weights: [1, 2, 2, 1],
    });
    const out = graphToGraphology(twice, { type: "undirected" });
    expect(out.multi).toBe(true);
    expect(out.size).toBe(2);
  });

  it("uses nodeIds and the weight attribute", () => {
    const g = Graph.fromEdges([0], [1], { weights: [0.5] });
    const out = graphToGraphology(g, {
      nodeIds: ["u", "v"],
      weightAttribute: "w",
    });
    expect(out.nodes()).toEqual(["u", "v"]);
    expect(out.getEdgeAttribute("0", "w")).toBe(0.5);
    expect(out.source("0")).toBe("u");
    const back = graphFromGraphology(out, { weightAttribute: "w" });
    expect(back.nodeIds).toEqual(["u", "v"]);
    expect(back.graph.weight(0)).toBe(0.5);
    const plain = graphToGraphology(Graph.fromEdges([0], [1]));
    expect(plain.getEdgeAttributes("0")).toEqual({});
  });

  it("raises GraphError for asymmetric graphs and bad options", () => {
    const one = Graph.fromEdges([0], [1]);
    expect(() => graphToGraphology(one, { type: "undirected" })).toThrow(
      GraphError,
    );
    const unequal = Graph.fromEdges([0, 1], [1, 0], { weights: [1, 2] });
    expect(() => graphToGraphology(unequal, { type: "undirected" })).toThrow(
      GraphError,
    );
    // symmetric as a matrix (1 + 1 = 2), but not edge by edge
    const split = Graph.fromEdges([0, 0, 1], [1, 1, 0], {
      weights: [1, 1, 2],
    });
    expect(() => graphToGraphology(split, { type: "undirected" })).toThrow(
      GraphError,
    );
    expect(() => graphToGraphology(one, { nodeIds: ["a"] })).toThrow(
      GraphError,
    );
    expect(() => graphToGraphology(one, { nodeIds: ["a", "a"] })).toThrow(
      GraphError,
    );
    const type = "mixed" as "directed";
    expect(() => graphToGraphology(one, { type })).toThrow(GraphError);
  });
});

describe("undirectedEdges", () => {
  it("lists each twin pair once and each loop once", () => {
    const g = Graph.fromEdges([0, 1, 2, 2, 1], [1, 0, 2, 1, 2], {
      weights: [1, 1, 3, 2, 2],
    });
    // CSR ids: row 0 [1->0], row 1 [0->1, 2->1], row 2 [1->2, 2->2]
    expect(undirectedEdges(g)).toEqual([
      [1, 0, 1],
      [3, 1, 2],
      [4, 2, 2],
    ]);
    const asym = Graph.fromEdges([0], [1]);
    expect(() => undirectedEdges(asym)).toThrow(GraphError);
    expect(() => undirectedEdges(asym, "caller")).toThrow(/^caller:/);
  });
});
