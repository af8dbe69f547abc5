// The report's spectral summary against closed forms: on a union of
// cycles C_12, C_5 and C_3 the normalized adjacency of C_n has the
// eigenvalues cos(2πj/n), so the top of the largest component, its gaps
// and the multiplicity of 1 (one per component) are known exactly; on a
// ring of four 5-cliques Louvain must find the cliques, whose modularity
// is 4 (10/44 − (22/88)²) = 0.659090…; errors for bad labels and k.
import { describe, expect, it } from "vitest";
import {
  graphSpectrumFigure,
  graphSpectrumSummary,
} from "../../experiments/report/spectrum.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { renderSpec } from "../../src/plot/render.js";

/** An undirected graph from pairs, both directions stored. */
function undirected(n: number, pairs: [number, number][]): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  for (const [a, b] of pairs) {
    src.push(a, b);
    dst.push(b, a);
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

/** The pairs of a cycle over nodes first .. first + n − 1. */
function cycle(first: number, n: number): [number, number][] {
  return Array.from({ length: n }, (_, i): [number, number] => [
    first + i,
    first + ((i + 1) % n),
  ]);
}

describe("graphSpectrumSummary on cycles", () => {
  // C_12 (nodes 0..11), C_5 (12..16), C_3 (17..19)
  const graph = undirected(20, [
    ...cycle(0, 12),
    ...cycle(12, 5),
    ...cycle(17, 3),
  ]);
  const labels = Int32Array.from({ length: 20 }, (_, i) => (i < 12 ? 0 : 1));
  const summary = graphSpectrumSummary(graph, labels, { k: 6, tol: 1e-12 });

  it("counts the components and the largest one", () => {
    expect(summary.numNodes).toBe(20);
    expect(summary.numEdges).toBe(40);
    expect(summary.components).toEqual({ count: 3, largest: 12 });
    expect(summary.largestComponent.numNodes).toBe(12);
  });

  it("finds C_12's top eigenvalues cos(2πj/12) and their gaps", () => {
    const all = Array.from({ length: 12 }, (_, j) =>
      Math.cos((2 * Math.PI * j) / 12),
    ).sort((a, b) => b - a);
    const expected = all.slice(0, 6); // 1, √3/2, √3/2, 1/2, 1/2, 0
    const { eigenvalues, gaps, largestGapAt } = summary.largestComponent;
    expect(eigenvalues.length).toBe(6);
    for (let i = 0; i < 6; i++) {
      expect(eigenvalues[i]).toBeCloseTo(expected[i], 10);
    }
    expect(gaps.length).toBe(5);
    for (let i = 0; i < 5; i++) {
      expect(gaps[i]).toBeCloseTo(expected[i] - expected[i + 1], 10);
    }
    // the largest gap, 1/2, lies below λ_5 = 1/2 (λ_6 = 0)
    expect(largestGapAt).toBe(5);
    expect(summary.largestComponent.maxResidual).toBeLessThan(1e-10);
  });

  it("finds the eigenvalue 1 once per component, then cos(π/6)", () => {
    const m = summary.multiplicity;
    expect(m?.predicted).toBe(3);
    expect(m?.measured).toBe(3);
    expect(m?.nextEigenvalue).toBeCloseTo(Math.cos(Math.PI / 6), 10);
  });

  it("skips the multiplicity solve when asked", () => {
    const s = graphSpectrumSummary(graph, labels, {
      k: 3,
      multiplicity: false,
    });
    expect(s.multiplicity).toBeNull();
    expect(s.largestComponent.eigenvalues.length).toBe(3);
  });

  it("draws both panels with the data of the summary", async () => {
    const spec = graphSpectrumFigure(summary, "cycles");
    const figure = await renderSpec(spec);
    expect(figure.svg).toContain("top eigenvalues of Ā");
    expect(figure.svg).toContain("eigengaps");
    expect(figure.svg).toContain("cycles, largest component (12 of 20");
    const json = JSON.stringify(spec);
    for (const v of summary.largestComponent.eigenvalues) {
      expect(json).toContain(JSON.stringify(v));
    }
  });
});

describe("graphSpectrumSummary on a ring of cliques", () => {
  // four 5-cliques, clique c on nodes 5c .. 5c + 4, joined in a ring by
  // the edges (5c + 4, 5(c + 1) mod 20)
  const pairs: [number, number][] = [];
  for (let c = 0; c < 4; c++) {
    for (let i = 0; i < 5; i++) {
      for (let j = i + 1; j < 5; j++) pairs.push([5 * c + i, 5 * c + j]);
    }
    pairs.push([5 * c + 4, (5 * (c + 1)) % 20]);
  }
  const graph = undirected(20, pairs);
  const labels = Int32Array.from({ length: 20 }, (_, i) => Math.floor(i / 5));

  it("finds the cliques: NMI 1, ARI 1, modularity of the clique partition", () => {
    const s = graphSpectrumSummary(graph, labels, { k: 5, seed: 3 });
    expect(s.components).toEqual({ count: 1, largest: 20 });
    expect(s.multiplicity?.measured).toBe(1);
    expect(s.communities.count).toBe(4);
    expect(s.communities.nmi).toBeCloseTo(1, 12);
    expect(s.communities.ari).toBeCloseTo(1, 12);
    // m = 44 edges; each clique: 10 inner edges, degree sum 22
    const q = 4 * (10 / 44 - (22 / 88) ** 2);
    expect(s.communities.modularity).toBeCloseTo(q, 12);
  });

  it("scores labels that ignore the cliques near 0", () => {
    // labels alternate inside every clique: no information in common
    const alternating = Int32Array.from({ length: 20 }, (_, i) => i % 2);
    const s = graphSpectrumSummary(graph, alternating, { k: 3 });
    expect(s.communities.nmi).toBeLessThan(0.1);
  });
});

describe("graphSpectrumSummary errors", () => {
  const graph = undirected(6, cycle(0, 6));

  it("raises ShapeError for labels of the wrong length", () => {
    expect(() => graphSpectrumSummary(graph, [0, 1, 0])).toThrow(ShapeError);
  });

  it("raises ConfigError for k out of [2, size − 1]", () => {
    const labels = [0, 0, 0, 1, 1, 1];
    for (const k of [1, 6, 2.5]) {
      expect(() => graphSpectrumSummary(graph, labels, { k })).toThrow(
        ConfigError,
      );
    }
  });
});
