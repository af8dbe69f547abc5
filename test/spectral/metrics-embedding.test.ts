import { describe, expect, it } from "vitest";
import { ConfigError, GraphError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { symmetricEigen } from "../../src/spectral/dense.js";
import { spectralEmbedding } from "../../src/spectral/embedding.js";
import { subspaceDistance } from "../../src/spectral/subspace.js";
import { columns, plantedPartition } from "./helpers.js";

/** Eigenvalues (descending) and eigenvectors of the dense Ā. */
function denseTop(
  g: Graph,
  k: number,
): { values: number[]; vectors: Float64Array } {
  const n = g.numNodes;
  const a = g.toDense();
  const d = g.inDegrees();
  const norm = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const s = d[i] > 0 && d[j] > 0 ? 1 / Math.sqrt(d[i] * d[j]) : 0;
      norm[i * n + j] = a[i * n + j] * s;
    }
  }
  const { values, vectors } = symmetricEigen(norm, n);
  const top = columns(vectors, n, n, n - k, n);
  return { values: Array.from(values.slice(n - k)).reverse(), vectors: top };
}

describe("spectralEmbedding", () => {
  for (const [blocks, size] of [
    [4, 20],
    [4, 100],
  ]) {
    const n = blocks * size;
    it(`spans the dense top-${blocks} eigenspace of Ā (N = ${n})`, () => {
      const g = plantedPartition(90 + n, blocks, size, 0.3, 0.02);
      const { values, embedding, residuals } = spectralEmbedding(g, blocks);
      const ref = denseTop(g, blocks);
      for (let j = 0; j < blocks; j++) {
        // eigenvalues to 1e-8 relative
        expect(Math.abs(values[j] - ref.values[j])).toBeLessThan(1e-8);
        expect(residuals[j]).toBeLessThan(1e-7);
      }
      const d = subspaceDistance(embedding, {
        data: ref.vectors,
        rows: n,
        cols: blocks,
      });
      expect(d).toBeLessThan(1e-6);
    });
  }

  it("returns the component indicators for a disconnected graph", () => {
    // three disjoint blocks: λ = 1 three times, eigenspace spanned by
    // √d restricted to each block
    const g = plantedPartition(95, 3, 30, 0.3, 0);
    const { values, embedding } = spectralEmbedding(g, 3);
    for (const v of values) expect(v).toBeCloseTo(1, 10);
    const d = g.inDegrees();
    const indicators = new Float64Array(90 * 3);
    for (let i = 0; i < 90; i++) {
      indicators[i * 3 + Math.floor(i / 30)] = Math.sqrt(d[i]);
    }
    expect(
      subspaceDistance(embedding, { data: indicators, rows: 90, cols: 3 }),
    ).toBeLessThan(1e-7);
  });

  it("fixes signs and applies the documented scalings", () => {
    const g = plantedPartition(96, 2, 25, 0.4, 0.05);
    const plain = spectralEmbedding(g, 2).embedding;
    for (let j = 0; j < 2; j++) {
      let best = 0;
      for (let i = 0; i < 50; i++) {
        const v = plain.data[i * 2 + j];
        if (Math.abs(v) > Math.abs(best)) best = v;
      }
      expect(best).toBeGreaterThan(0);
    }

    const d = g.inDegrees();
    const scaled = spectralEmbedding(g, 2, { degreeScaled: true }).embedding;
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < 2; j++) {
        expect(scaled.data[i * 2 + j]).toBeCloseTo(
          plain.data[i * 2 + j] / Math.sqrt(d[i]),
          14,
        );
      }
    }
    const unit = spectralEmbedding(g, 2, { normalizeRows: true }).embedding;
    for (let i = 0; i < 50; i++) {
      expect(Math.hypot(unit.data[i * 2], unit.data[i * 2 + 1])).toBeCloseTo(
        1,
        14,
      );
    }
  });

  it("rejects directed graphs and bad k", () => {
    const directed = Graph.fromEdges([0, 1], [1, 2], { numNodes: 3 });
    expect(() => spectralEmbedding(directed, 1)).toThrow(GraphError);
    const g = plantedPartition(97, 2, 5, 0.8, 0.1);
    expect(() => spectralEmbedding(g, 0)).toThrow(ConfigError);
    expect(() => spectralEmbedding(g, 11)).toThrow(ConfigError);
  });
});
