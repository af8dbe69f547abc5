/**
 * The tricks of the contrastive trainer against independent references:
 * the memory bank against hand-computed means (ring eviction, state
 * round trip); the multi-stage objective's loss against a float64 GRACE
 * loss with the mixed target written out here, its update against
 * central differences of that reference (and closed forms for SimSiam),
 * its two forms agreeing; attentive weights against a plain float64
 * computation; extra positives against a brute-force kNN and a
 * hand-built augmentation graph. Seeded inputs; tolerances stated.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { sampledAugmentationGraph } from "../../src/contrastive/augmentation.js";
import {
  graceObjective,
  simSiamObjective,
  spectralObjective,
} from "../../src/contrastive/objectives.js";
import {
  attentiveAlignment,
  attentiveAnchorWeights,
} from "../../src/contrastive/tricks/attention.js";
import {
  MemoryBank,
  multiStageObjective,
} from "../../src/contrastive/tricks/memory.js";
import {
  augmentationWithExtraPositives,
  extraPositiveGraph,
} from "../../src/contrastive/tricks/rewire.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { knnRewire, louvainCommunities } from "../../src/graph/rewire/index.js";
import { mulberry32, randomNormal } from "../../src/random.js";

function normals(n: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => randomNormal(r));
}

/** Rows scaled to unit norm (float64). */
function unitRows(x: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(x);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += out[i * k + c] ** 2;
    for (let c = 0; c < k; c++) out[i * k + c] /= Math.sqrt(s);
  }
  return out;
}

describe("MemoryBank", () => {
  it("keeps each sample's last r entries and averages them", () => {
    const bank = new MemoryBank(3, 2, 2);
    expect(bank.has([0])).toBe(false);
    bank.push([0, 2], [1, 2, 10, 20]);
    bank.push([0], [3, 4]);
    bank.push([0], [5, 6]); // evicts [1, 2]
    expect(bank.has([0, 2])).toBe(true);
    expect(bank.has([1])).toBe(false);
    expect(Array.from(bank.mean([0, 1, 2]))).toEqual([4, 5, 0, 0, 10, 20]);

    // the state round trip
    const copy = new MemoryBank(3, 2, 2);
    copy.load(bank.state());
    bank.push([0], [7, 8]);
    copy.push([0], [7, 8]);
    expect(Array.from(copy.mean([0]))).toEqual([6, 7]);
    expect(Array.from(bank.mean([0]))).toEqual([6, 7]);
  });

  it("refuses bad sizes, ids and states", () => {
    expect(() => new MemoryBank(0, 2, 1)).toThrow(ConfigError);
    expect(() => new MemoryBank(2, 2, 1.5)).toThrow(ConfigError);
    const bank = new MemoryBank(2, 2, 1);
    expect(() => bank.push([0], [1, 2, 3])).toThrow(ShapeError);
    expect(() => bank.push([2], [1, 2])).toThrow(ConfigError);
    expect(() => bank.load(new MemoryBank(2, 3, 1).state())).toThrow(
      ShapeError,
    );
  });
});

describe("multiStageObjective", () => {
  // B = 5 samples, 2 views: n = 10 rows of width 4
  const b = 5;
  const n = 2 * b;
  const k = 4;
  const tau = 0.5;
  const mix = 0.3;
  const aug = sampledAugmentationGraph({ batchSize: b, views: 2 }).graph;
  const f64 = unitRows(normals(n * k, 11), n, k);
  const memory64 = normals(n * k, 12);
  const anchors = Float64Array.from({ length: n }, (_, i) => (i + 1) / 55);

  /** GRACE with the mixed target, float64, anchor weights a. */
  function reference(f: Float64Array, a: Float64Array): number {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const pos = (i + b) % n;
      let lse = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let s = 0;
        for (let c = 0; c < k; c++) s += f[i * k + c] * f[j * k + c];
        lse += Math.exp(s / tau);
      }
      let target = 0;
      for (let c = 0; c < k; c++) {
        const t = (1 - mix) * f[pos * k + c] + mix * memory64[i * k + c];
        target += f[i * k + c] * t;
      }
      total += a[i] * (Math.log(lse) - target / tau);
    }
    return total;
  }

  it("loss equals the float64 reference; update equals −∂L/∂F (FD)", () => {
    const f = tf.tensor2d(Float32Array.from(f64), [n, k]);
    const memory = tf.tensor2d(Float32Array.from(memory64), [n, k]);
    const objective = multiStageObjective(
      graceObjective({ temperature: tau }),
      memory,
      { mix, temperature: tau },
    );
    const input = { features: f, augmentation: aug, anchorWeights: anchors };
    const loss = objective.loss(input);
    const ref = reference(Float64Array.from(f.dataSync()), anchors);
    expect(Math.abs(loss.dataSync()[0] - ref)).toBeLessThan(1e-5);

    // ΔF against central differences of the reference (h = 1e-6)
    const update = objective.featureUpdate(input);
    const got = update.dataSync();
    const x = Float64Array.from(f.dataSync());
    let worst = 0;
    for (let e = 0; e < n * k; e++) {
      const plus = x.slice();
      const minus = x.slice();
      plus[e] += 1e-6;
      minus[e] -= 1e-6;
      const grad =
        (reference(plus, anchors) - reference(minus, anchors)) / 2e-6;
      worst = Math.max(worst, Math.abs(-grad - got[e]));
    }
    expect(worst).toBeLessThan(2e-5);

    // the "loss" form's autodiff gradient is the same update
    const auto = tf.grad((g: tf.Tensor) =>
      objective.loss({ ...input, features: g as tf.Tensor2D }),
    )(f);
    const diff = tf.max(tf.abs(tf.add(auto, update))).dataSync()[0];
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([f, memory, loss, update, auto]);
  });

  it("mix 0 is the base objective; SimSiam at mix 1 is (1/n) M̄", () => {
    const f = tf.tensor2d(Float32Array.from(f64), [n, k]);
    const memory = tf.tensor2d(Float32Array.from(memory64), [n, k]);
    const targets = tf.tensor2d(
      Float32Array.from(unitRows(normals(n * k, 13), n, k)),
      [n, k],
    );
    const base = spectralObjective();
    const input = { features: f, augmentation: aug };
    const a = base.featureUpdate(input);
    const m = multiStageObjective(base, memory, { mix: 0 }).featureUpdate(
      input,
    );
    expect(tf.max(tf.abs(tf.sub(a, m))).dataSync()[0]).toBe(0);

    const sim = multiStageObjective(simSiamObjective(), memory, { mix: 1 });
    const u = sim.featureUpdate({ ...input, targets });
    const mem = memory.dataSync();
    const got = u.dataSync();
    let worst = 0;
    for (let e = 0; e < n * k; e++) {
      worst = Math.max(worst, Math.abs(got[e] - mem[e] / n));
    }
    expect(worst).toBeLessThan(1e-7);
    tf.dispose([f, memory, targets, a, m, u]);
  });

  it("refuses a bad mix, a missing temperature and a memory of wrong shape", () => {
    const memory = tf.zeros([n, k]) as tf.Tensor2D;
    const grace = graceObjective({ temperature: tau });
    expect(() =>
      multiStageObjective(grace, memory, { mix: 2, temperature: tau }),
    ).toThrow(ConfigError);
    expect(() => multiStageObjective(grace, memory, { mix: 0.5 })).toThrow(
      ConfigError,
    );
    const small = tf.zeros([n - 1, k]) as tf.Tensor2D;
    const f = tf.tensor2d(Float32Array.from(f64), [n, k]);
    const o = multiStageObjective(grace, small, { temperature: tau });
    expect(() => o.featureUpdate({ features: f, augmentation: aug })).toThrow(
      ShapeError,
    );
    tf.dispose([memory, small, f]);
  });
});

describe("attentive alignment", () => {
  it("softmax over the batch of mean cosines to the positives (float64)", () => {
    // 3 samples × 2 views; a weighted extra positive between rows 0 and 4
    const n = 6;
    const k = 3;
    const x = normals(n * k, 21);
    const src = [3, 0, 4, 1, 5, 2, 4, 0];
    const dst = [0, 3, 1, 4, 2, 5, 0, 4];
    const w = [1, 1, 1, 1, 1, 1, 0.5, 0.5];
    const g = Graph.fromEdges(src, dst, {
      numNodes: n,
      weights: Float32Array.from(w),
    });
    const got = attentiveAnchorWeights(g, x, k, 0.7);

    // reference: the same quantities from the edge list
    const cos = (i: number, j: number) => {
      let ij = 0;
      let ii = 0;
      let jj = 0;
      for (let c = 0; c < k; c++) {
        ij += x[i * k + c] * x[j * k + c];
        ii += x[i * k + c] ** 2;
        jj += x[j * k + c] ** 2;
      }
      return ij / Math.sqrt(ii * jj);
    };
    const c = new Float64Array(n);
    const d = new Float64Array(n);
    for (let e = 0; e < src.length; e++) {
      c[dst[e]] += w[e] * cos(dst[e], src[e]);
      d[dst[e]] += w[e];
    }
    const ex = Array.from(c, (v, i) => Math.exp(v / d[i] / 0.7));
    const z = ex.reduce((s, v) => s + v, 0);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(got[i] - ex[i] / z)).toBeLessThan(1e-12);
    }

    // a huge temperature gives the uniform 1/n
    const flat = attentiveAnchorWeights(g, x, k, 1e12);
    for (const v of flat) expect(Math.abs(v - 1 / n)).toBeLessThan(1e-9);
  });

  it("reads the chosen detached features of a pass; refuses bad input", () => {
    const g = sampledAugmentationGraph({ batchSize: 2, views: 2 }).graph;
    const hidden = tf.tensor2d([1, 0, 0, 1, 1, 0.1, 0.1, 1], [4, 2]);
    const proj = tf.tensor2d([1, 0, 0, 1, -1, 0, 0, -1], [4, 2]);
    const out = { features: proj, targets: null, hidden, projections: proj };
    const fromHidden = attentiveAlignment(g)(out);
    const fromProj = attentiveAlignment(g, { source: "projections" })(out);
    const expected = attentiveAnchorWeights(g, hidden.dataSync(), 2, 1);
    expect(Array.from(fromHidden)).toEqual(Array.from(expected));
    // projections: every positive pair is opposite (cos −1): uniform
    for (const v of fromProj) expect(v).toBeCloseTo(0.25, 12);
    expect(() => attentiveAnchorWeights(g, [1, 2, 3], 2)).toThrow(ShapeError);
    expect(() => attentiveAnchorWeights(g, hidden.dataSync(), 2, 0)).toThrow(
      ConfigError,
    );
    tf.dispose([hidden, proj]);
  });
});

describe("rewired augmentation graphs", () => {
  const n = 30;
  const d = 5;
  const x = Float32Array.from(normals(n * d, 31));

  /** Undirected pairs of a graph as "i-j" keys, i < j. */
  function pairs(g: Graph): Set<string> {
    const out = new Set<string>();
    for (let i = 0; i < g.numNodes; i++) {
      for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
        const j = g.colIdx[e];
        out.add(`${Math.min(i, j)}-${Math.max(i, j)}`);
      }
    }
    return out;
  }

  it("kNN pairs equal a brute-force float64 cosine kNN, both directions", () => {
    const k = 3;
    const g = extraPositiveGraph(
      { features: x, numSamples: n, dim: d },
      { kind: "knn", k },
      mulberry32(0),
    );
    const expected = new Set<string>();
    for (let i = 0; i < n; i++) {
      const dist: Array<[number, number]> = [];
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let ij = 0;
        let ii = 0;
        let jj = 0;
        for (let c = 0; c < d; c++) {
          ij += x[i * d + c] * x[j * d + c];
          ii += x[i * d + c] ** 2;
          jj += x[j * d + c] ** 2;
        }
        dist.push([1 - ij / Math.sqrt(ii * jj), j]);
      }
      dist.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      for (const [, j] of dist.slice(0, k)) {
        expected.add(`${Math.min(i, j)}-${Math.max(i, j)}`);
      }
    }
    expect(pairs(g)).toEqual(expected);
    expect(g.numEdges).toBe(2 * expected.size);
  });

  it("community pairs lie inside one Louvain community of the kNN graph", () => {
    const g = extraPositiveGraph(
      { features: x, numSamples: n, dim: d },
      { kind: "community", k: 4, partners: 2 },
      mulberry32(9),
    );
    const knn = knnRewire(x, n, d, { k: 4, symmetric: true });
    const communities = louvainCommunities(knn, { random: mulberry32(9) });
    expect(g.numEdges).toBeGreaterThan(0);
    for (let i = 0; i < n; i++) {
      for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
        expect(communities[g.colIdx[e]]).toBe(communities[i]);
        expect(g.colIdx[e]).not.toBe(i);
      }
    }
  });

  it("diffusion pairs: top-k off-diagonal entries of a dense float64 PPR", () => {
    // an irregular graph on 7 nodes (no symmetry, so no ties)
    const und = [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
      [2, 4],
      [4, 5],
      [5, 6],
      [1, 5],
    ];
    const m = 7;
    const src = und.flatMap(([a, b]) => [a, b]);
    const dst = und.flatMap(([a, b]) => [b, a]);
    const graph = Graph.fromEdges(src, dst, { numNodes: m });
    const k = 2;
    const alpha = 0.15;
    const g = extraPositiveGraph(
      { features: new Float32Array(m), numSamples: m, dim: 1, graph },
      { kind: "diffusion", k, alpha },
      mulberry32(0),
    );

    // S = α (I − (1 − α) D^-1/2 (A + I) D^-1/2)^-1 by Gauss–Jordan
    const a = new Float64Array(m * m);
    for (let i = 0; i < m; i++) a[i * m + i] = 1;
    for (const [u, v] of und) {
      a[u * m + v] = 1;
      a[v * m + u] = 1;
    }
    const deg = Array.from({ length: m }, (_, i) =>
      a.slice(i * m, (i + 1) * m).reduce((s, v) => s + v, 0),
    );
    const lhs = new Float64Array(m * m);
    const inv = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      inv[i * m + i] = 1;
      for (let j = 0; j < m; j++) {
        const t = a[i * m + j] / Math.sqrt(deg[i] * deg[j]);
        lhs[i * m + j] = (i === j ? 1 : 0) - (1 - alpha) * t;
      }
    }
    for (let c = 0; c < m; c++) {
      const p = lhs[c * m + c];
      for (let j = 0; j < m; j++) {
        lhs[c * m + j] /= p;
        inv[c * m + j] /= p;
      }
      for (let r = 0; r < m; r++) {
        if (r === c) continue;
        const f = lhs[r * m + c];
        for (let j = 0; j < m; j++) {
          lhs[r * m + j] -= f * lhs[c * m + j];
          inv[r * m + j] -= f * inv[c * m + j];
        }
      }
    }
    const expected = new Set<string>();
    for (let j = 0; j < m; j++) {
      const column = Array.from({ length: m }, (_, i) => i)
        .filter((i) => i !== j)
        .map((i) => [alpha * inv[i * m + j], i] as [number, number])
        .sort((x, y) => y[0] - x[0]);
      // the k-th and (k+1)-th entries are well apart: no near-tie
      expect(column[k - 1][0] - column[k][0]).toBeGreaterThan(1e-3);
      for (const [, i] of column.slice(0, k)) {
        expected.add(`${Math.min(i, j)}-${Math.max(i, j)}`);
      }
    }
    expect(pairs(g)).toEqual(expected);
    expect(() =>
      extraPositiveGraph(
        { features: new Float32Array(5), numSamples: 5, dim: 1 },
        { kind: "diffusion" },
        mulberry32(0),
      ),
    ).toThrow(ConfigError);
  });

  it("the batch graph: own views at 1, extra cross-view pairs at the weight", () => {
    // samples 7, 2, 5 in the batch; extra pairs 7—2 and 2—9 (9 not in it)
    const extra = Graph.fromEdges([7, 2, 2, 9], [2, 7, 9, 2], { numNodes: 10 });
    const g = augmentationWithExtraPositives(2, [7, 2, 5], extra, 0.5);
    const dense = g.toDense();
    const m = 6;
    const expected = new Float64Array(m * m);
    const set = (i: number, j: number, v: number) => {
      expected[i * m + j] = v;
    };
    for (let p = 0; p < 3; p++) {
      set(p, 3 + p, 1);
      set(3 + p, p, 1);
    }
    // positions 0 (sample 7) and 1 (sample 2), across views
    set(0, 4, 0.5);
    set(4, 0, 0.5);
    set(1, 3, 0.5);
    set(3, 1, 0.5);
    expect(Array.from(dense)).toEqual(Array.from(expected));
    expect(() => augmentationWithExtraPositives(2, [1, 1], extra)).toThrow(
      ConfigError,
    );
    expect(() => augmentationWithExtraPositives(0, [1], extra)).toThrow(
      ConfigError,
    );
  });
});
