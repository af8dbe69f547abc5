/**
 * GDC diffusion against dense float64 references written here: the PPR
 * closed form α (I − (1 − α) T)^{-1} by Gauss–Jordan elimination and the
 * heat kernel e^{−t} Σ_k t^k T^k / k! by its series to 80 terms, for the
 * "sym" and "col" transitions of A + I, on seeded weighted graphs; the
 * returned ℓ1 column errors against the dense truth; sparsification and
 * normalization by hand; and typed errors.
 */

import { describe, expect, it } from "vitest";
import { ConfigError, GraphError } from "../../../src/errors.js";
import { pathGraph } from "../../../src/graph/generators.js";
import { Graph } from "../../../src/graph/graph.js";
import {
  diffusionMatrix,
  diffusionRewire,
} from "../../../src/graph/rewire/diffusion.js";
import {
  isSymmetric,
  normalize,
  symmetrize,
} from "../../../src/graph/transforms.js";
import { mulberry32 } from "../../../src/random.js";
import { randomEdges } from "../../helpers/random.js";

/** A seeded symmetric weighted graph without duplicates. */
function symmetricGraph(seed: number, n: number, m: number): Graph {
  const rng = mulberry32(seed);
  const { src, dst, weights } = randomEdges(rng, {
    numNodes: n,
    numEdges: m,
  });
  const g = Graph.fromEdges(src, dst, { numNodes: n, weights });
  return symmetrize(g, { reduce: "max" });
}

/** The dense transition of A + I: "sym" or "col" (row-major [i][j]). */
function denseTransition(g: Graph, kind: "sym" | "col"): Float64Array {
  const n = g.numNodes;
  const a = g.toDense();
  for (let i = 0; i < n; i++) a[i * n + i] += 1;
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) deg[j] += a[i * n + j];
  }
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      t[i * n + j] =
        kind === "col"
          ? a[i * n + j] / deg[j]
          : a[i * n + j] / Math.sqrt(deg[i] * deg[j]);
    }
  }
  return t;
}

/** The inverse of a dense matrix by Gauss–Jordan with partial pivoting. */
function inverse(m: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(m);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) {
      if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    }
    for (let k = 0; k < n; k++) {
      [a[c * n + k], a[p * n + k]] = [a[p * n + k], a[c * n + k]];
      [inv[c * n + k], inv[p * n + k]] = [inv[p * n + k], inv[c * n + k]];
    }
    const pivot = a[c * n + c];
    for (let k = 0; k < n; k++) {
      a[c * n + k] /= pivot;
      inv[c * n + k] /= pivot;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      for (let k = 0; k < n; k++) {
        a[r * n + k] -= f * a[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/** α (I − (1 − α) T)^{-1}. */
function densePpr(t: Float64Array, n: number, alpha: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) m[i] = -(1 - alpha) * t[i];
  for (let i = 0; i < n; i++) m[i * n + i] += 1;
  return inverse(m, n).map((v) => alpha * v);
}

/** e^{−t} Σ_{k<80} τ^k T^k / k!. */
function denseHeat(tm: Float64Array, n: number, time: number): Float64Array {
  const out = new Float64Array(n * n);
  let power = new Float64Array(n * n);
  for (let i = 0; i < n; i++) power[i * n + i] = 1;
  let coef = Math.exp(-time);
  for (let k = 0; k < 80; k++) {
    for (let i = 0; i < n * n; i++) out[i] += coef * power[i];
    const nextPower = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let l = 0; l < n; l++) {
        const v = tm[i * n + l];
        if (v === 0) continue;
        for (let j = 0; j < n; j++)
          nextPower[i * n + j] += v * power[l * n + j];
      }
    }
    power = nextPower;
    coef *= time / (k + 1);
  }
  return out;
}

/** Largest absolute entry difference of two dense matrices. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const all = { threshold: 0 } as const;

describe("diffusionMatrix", () => {
  it("matches the dense PPR closed form and heat series", () => {
    // float32 storage: entries within 1e-6; ε = 1e-12 makes the
    // truncation error far smaller than that
    for (let seed = 0; seed < 4; seed++) {
      const g = symmetricGraph(seed, 14, 30);
      const n = g.numNodes;
      for (const transition of ["sym", "col"] as const) {
        const t = denseTransition(g, transition);
        const ppr = diffusionMatrix(g, {
          kernel: "ppr",
          alpha: 0.2,
          transition,
          epsilon: 1e-12,
          sparsify: all,
        });
        expect(maxDiff(ppr.matrix.toDense(), densePpr(t, n, 0.2))).toBeLessThan(
          1e-6,
        );
        const heat = diffusionMatrix(g, {
          kernel: "heat",
          t: 3,
          transition,
          epsilon: 1e-12,
          sparsify: all,
        });
        expect(maxDiff(heat.matrix.toDense(), denseHeat(t, n, 3))).toBeLessThan(
          1e-6,
        );
        for (const e of [...ppr.columnError, ...heat.columnError]) {
          expect(e).toBeLessThan(1e-9);
        }
      }
    }
  });

  it("reports each column's exact l1 error and underestimates", () => {
    const g = symmetricGraph(9, 30, 70);
    const n = g.numNodes;
    const t = denseTransition(g, "col");
    for (const kernel of ["ppr", "heat"] as const) {
      const truth =
        kernel === "ppr" ? densePpr(t, n, 0.15) : denseHeat(t, n, 5);
      const { matrix, columnError } = diffusionMatrix(g, {
        kernel,
        transition: "col",
        epsilon: 3e-3,
        sparsify: all,
      });
      const approx = matrix.toDense();
      let someError = false;
      for (let j = 0; j < n; j++) {
        let l1 = 0;
        for (let i = 0; i < n; i++) {
          const gap = truth[i * n + j] - approx[i * n + j];
          expect(gap).toBeGreaterThan(-1e-6);
          l1 += Math.abs(gap);
        }
        expect(Math.abs(l1 - columnError[j])).toBeLessThan(1e-5);
        if (columnError[j] > 1e-3) someError = true;
      }
      expect(someError).toBe(true);
    }
  });

  it("keeps the PPR entrywise bound 0 <= S - p < eps d_i", () => {
    const g = symmetricGraph(4, 25, 60);
    const n = g.numNodes;
    const eps = 1e-3;
    const truth = densePpr(denseTransition(g, "col"), n, 0.15);
    const approx = diffusionMatrix(g, {
      transition: "col",
      epsilon: eps,
      sparsify: all,
    }).matrix.toDense();
    const deg = g.outDegrees().map((d) => d + 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const gap = truth[i * n + j] - approx[i * n + j];
        expect(gap).toBeLessThan(eps * deg[i] + 1e-6);
      }
    }
  });

  it("keeps the top-k of every column and applies thresholds", () => {
    const g = symmetricGraph(2, 20, 50);
    const n = g.numNodes;
    const full = diffusionMatrix(g, {
      epsilon: 1e-10,
      sparsify: all,
    }).matrix.toDense();
    const top = diffusionMatrix(g, {
      epsilon: 1e-10,
      sparsify: { topK: 3 },
    }).matrix.toDense();
    for (let j = 0; j < n; j++) {
      const column = Array.from({ length: n }, (_, i) => full[i * n + j]);
      const order = column
        .map((v, i) => [v, i])
        .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      const kept = new Set(order.slice(0, 3).map((p) => p[1]));
      for (let i = 0; i < n; i++) {
        const want = kept.has(i) ? column[i] : 0;
        expect(top[i * n + j]).toBe(want);
      }
    }
    const thr = diffusionMatrix(g, {
      epsilon: 1e-10,
      sparsify: { threshold: 0.05 },
    }).matrix;
    const thrDense = thr.toDense();
    for (let i = 0; i < n * n; i++) {
      expect(thrDense[i]).toBe(full[i] >= 0.05 ? full[i] : 0);
    }
    expect(isSymmetric(thr, 1e-6)).toBe(true);
  });

  it("drops the diagonal when selfLoops is false", () => {
    const g = symmetricGraph(3, 10, 20);
    const m = diffusionMatrix(g, { selfLoops: false, sparsify: all }).matrix;
    for (let e = 0; e < m.numEdges; e++) expect(m.src[e]).not.toBe(m.dst[e]);
  });
});

describe("diffusionRewire", () => {
  it("normalizes the sparsified matrix as asked", () => {
    const g = symmetricGraph(5, 16, 40);
    const opts = { epsilon: 1e-8, sparsify: { topK: 4 } } as const;
    const raw = diffusionRewire(g, { ...opts, normalization: "none" });
    expect(raw.numNodes).toBe(16);
    for (const [kind, inner] of [
      ["sym", "sym"],
      ["col", "col"],
      ["row", "rw"],
    ] as const) {
      const got = diffusionRewire(g, { ...opts, normalization: kind });
      expect(maxDiff(got.toDense(), normalize(raw, inner).toDense())).toBe(0);
    }

    // "col" normalization: every column sums to 1
    const col = diffusionRewire(g, { ...opts, normalization: "col" });
    const sums = col.outDegrees();
    for (const s of sums) expect(Math.abs(s - 1)).toBeLessThan(1e-6);
  });

  it("diffuses a path of three nodes as computed by hand", () => {
    // A + I of the path 0 - 1 - 2 has degrees (2, 3, 2), so "col" gives
    // T = [[1/2, 1/3, 0], [1/2, 1/3, 1/2], [0, 1/3, 1/2]]; with α = 1/2,
    // S e_0 = x / 2 where (I − T/2) x = e_0:
    //   3/4 x0 − 1/6 x1 = 1, −1/4 x0 + 5/6 x1 − 1/4 x2 = 0,
    //   −1/6 x1 + 3/4 x2 = 0
    // so x2 = 2/9 x1, x0 = 28/9 x1, x1 = 6/13, and
    // S e_0 = (28/39, 3/13, 2/39), which sums to 1
    const s = diffusionMatrix(pathGraph(3), {
      alpha: 0.5,
      transition: "col",
      epsilon: 1e-12,
      sparsify: all,
    }).matrix.toDense();
    expect(Math.abs(s[0 * 3 + 0] - 28 / 39)).toBeLessThan(1e-6);
    expect(Math.abs(s[1 * 3 + 0] - 3 / 13)).toBeLessThan(1e-6);
    expect(Math.abs(s[2 * 3 + 0] - 2 / 39)).toBeLessThan(1e-6);
  });

  it("raises typed errors for bad options and zero degrees", () => {
    const g = pathGraph(4);
    expect(() => diffusionRewire(g, { alpha: 0 })).toThrow(ConfigError);
    expect(() => diffusionRewire(g, { alpha: 1 })).toThrow(ConfigError);
    expect(() => diffusionRewire(g, { kernel: "heat", t: -1 })).toThrow(
      ConfigError,
    );
    expect(() => diffusionRewire(g, { epsilon: 0 })).toThrow(ConfigError);
    expect(() => diffusionRewire(g, { sparsify: { topK: 0 } })).toThrow(
      ConfigError,
    );
    expect(() => diffusionRewire(g, { normalization: "max" as "sym" })).toThrow(
      ConfigError,
    );
    expect(() => diffusionRewire(g, { kernel: "gauss" as "ppr" })).toThrow(
      ConfigError,
    );
    const isolated = Graph.fromEdges([0], [1], { numNodes: 3 });
    expect(() => diffusionRewire(isolated, { selfLoopWeight: 0 })).toThrow(
      GraphError,
    );
  });
});
