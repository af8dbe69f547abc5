/**
 * The contrastive objectives in their two forms.
 *
 * References, written here in float64 on plain arrays:
 * - each loss literally, from its paper's formula (NT-Xent with
 *   pos(i) = (i + B) mod 2B; GRACE with its intra-view and inter-view
 *   similarity matrices; the spectral loss as its double sums, and against
 *   `spectralContrastiveLoss` on the normalized batch graph; SimSiam and
 *   BYOL from cosines of unnormalized outputs);
 * - ΔF against central finite differences of that float64 loss
 *   (h = 1e-6): relative error ‖ΔF − (−∇L)‖ / ‖∇L‖ < 1e-5;
 * - ΔF against autodiff of the float32 loss (what the step's equality
 *   rests on): relative error < 1e-5.
 * Losses: relative error < 1e-5 (float32 sums over a few hundred terms).
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { sampledAugmentationGraph } from "../../src/contrastive/augmentation.js";
import { spectralContrastiveLoss } from "../../src/contrastive/losses.js";
import {
  byolObjective,
  type ContrastiveObjective,
  createObjective,
  graceObjective,
  infoNCEObjective,
  type ObjectiveInput,
  simSiamObjective,
  spectralObjective,
} from "../../src/contrastive/objectives.js";
import { uniformityUpdate } from "../../src/contrastive/updates.js";
import {
  ConfigError,
  NotImplementedError,
  ShapeError,
} from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { mulberry32, randomNormal } from "../../src/random.js";
import { centralDifference } from "../helpers/dense.js";

// ---------------------------------------------------------------------------
// float64 references
// ---------------------------------------------------------------------------

/** Seeded standard normal entries, `[n, k]` row-major. */
function normals(seed: number, n: number, k: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n * k }, () => randomNormal(r));
}

/** Rows scaled to unit length. */
function unit(x: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += x[i * k + c] ** 2;
    for (let c = 0; c < k; c++) out[i * k + c] = x[i * k + c] / Math.sqrt(s);
  }
  return out;
}

function dotRows(
  x: Float64Array,
  i: number,
  y: Float64Array,
  j: number,
  k: number,
): number {
  let s = 0;
  for (let c = 0; c < k; c++) s += x[i * k + c] * y[j * k + c];
  return s;
}

/** The dense A of a graph (duplicates summed). */
function denseGraph(g: Graph): Float64Array {
  const n = g.numNodes;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
      a[i * n + g.colIdx[e]] += g.weight(e);
    }
  }
  return a;
}

/**
 * InfoNCE from its definition: anchor i's term is −(mean similarity to
 * its positives) + log Σ_{j≠i} exp(s_ij), weighted by a_i.
 */
function infoNCE64(
  f: Float64Array,
  a: Float64Array,
  n: number,
  k: number,
  tau: number,
  weights: ArrayLike<number> = new Float64Array(n).fill(1 / n),
  excludeSelf = true,
): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let pos = 0;
    let deg = 0;
    let z = 0;
    for (let j = 0; j < n; j++) {
      const s = dotRows(f, i, f, j, k) / tau;
      pos += a[i * n + j] * s;
      deg += a[i * n + j];
      if (j !== i || !excludeSelf) z += Math.exp(s);
    }
    loss += weights[i] * (-pos / deg + Math.log(z));
  }
  return loss;
}

/** NT-Xent, SimCLR's formula: 2B views, pos(i) = (i + B) mod 2B. */
function ntXent64(f: Float64Array, b: number, k: number, tau: number) {
  const n = 2 * b;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const p = (i + b) % n;
    let z = 0;
    for (let j = 0; j < n; j++) {
      if (j !== i) z += Math.exp(dotRows(f, i, f, j, k) / tau);
    }
    loss += -Math.log(Math.exp(dotRows(f, i, f, p, k) / tau) / z);
  }
  return loss / n;
}

/**
 * GRACE's loss as its paper writes it: views u (rows 0..N-1) and v (rows
 * N..2N-1), θ the cosine, refl/between the intra-/inter-view exp-sims.
 */
function grace64(f: Float64Array, nNodes: number, k: number, tau: number) {
  const u = f.subarray(0, nNodes * k);
  const v = f.subarray(nNodes * k);
  const cos = (x: Float64Array, i: number, y: Float64Array, j: number) =>
    dotRows(x, i, y, j, k) /
    Math.sqrt(dotRows(x, i, x, i, k) * dotRows(y, j, y, j, k));
  const ell = (x: Float64Array, y: Float64Array, i: number) => {
    let between = 0;
    let refl = 0;
    for (let t = 0; t < nNodes; t++) {
      between += Math.exp(cos(x, i, y, t) / tau);
      if (t !== i) refl += Math.exp(cos(x, i, x, t) / tau);
    }
    return -Math.log(Math.exp(cos(x, i, y, i) / tau) / (between + refl));
  };
  let j = 0;
  for (let i = 0; i < nNodes; i++) j += 0.5 * (ell(u, v, i) + ell(v, u, i));
  return j / nNodes;
}

/** The spectral loss as double sums: −2 mean E_pos f·f⁺ + c Σ (f·f')². */
function spectral64(
  f: Float64Array,
  a: Float64Array,
  n: number,
  k: number,
  excludeSelf: boolean,
): number {
  let align = 0;
  let unif = 0;
  for (let i = 0; i < n; i++) {
    let pos = 0;
    let deg = 0;
    for (let j = 0; j < n; j++) {
      const s = dotRows(f, i, f, j, k);
      pos += a[i * n + j] * s;
      deg += a[i * n + j];
      if (j !== i || !excludeSelf) unif += s * s;
    }
    align += pos / deg;
  }
  const c = excludeSelf ? 1 / (n * (n - 1)) : 1 / (n * n);
  return (-2 / n) * align + c * unif;
}

/** Negative cosine D(p, z) averaged over B rows. */
function negCos(
  p: Float64Array,
  z: Float64Array,
  b: number,
  k: number,
  offP: number,
  offZ: number,
): number {
  let s = 0;
  for (let i = 0; i < b; i++) {
    const pi = offP + i;
    const zi = offZ + i;
    s -=
      dotRows(p, pi, z, zi, k) /
      Math.sqrt(dotRows(p, pi, p, pi, k) * dotRows(z, zi, z, zi, k));
  }
  return s / b;
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i] - expected[i]) ** 2;
    den += expected[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** A float32 tensor of float64 values, and those values rounded. */
function tensorOf(
  x: Float64Array,
  n: number,
  k: number,
): { t: tf.Tensor2D; v: Float64Array } {
  const f32 = Float32Array.from(x);
  return { t: tf.tensor2d(f32, [n, k]), v: Float64Array.from(f32) };
}

/** ΔF, and −∇L by autodiff of the float32 loss. */
function updateAndAutodiff(
  objective: ContrastiveObjective,
  input: ObjectiveInput,
): { delta: Float32Array; autodiff: Float32Array } {
  const delta = objective.featureUpdate(input);
  const grad = tf.grad((f: tf.Tensor) =>
    objective.loss({ ...input, features: f as tf.Tensor2D }),
  )(input.features);
  const out = {
    delta: delta.dataSync() as Float32Array,
    autodiff: Float32Array.from(grad.dataSync(), (g) => -g),
  };
  tf.dispose([delta, grad]);
  return out;
}

// ---------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------

describe("InfoNCE / NT-Xent", () => {
  const b = 6;
  const n = 2 * b;
  const k = 5;
  const tau = 0.5;
  const batch = sampledAugmentationGraph({ batchSize: b });
  const a = denseGraph(batch.graph);
  const { t: F, v: f } = tensorOf(unit(normals(1, n, k), n, k), n, k);
  const input = { features: F, augmentation: batch.graph };

  it("loss equals SimCLR's NT-Xent formula", () => {
    const loss = infoNCEObjective({ temperature: tau }).loss(input);
    const expected = ntXent64(f, b, k, tau);
    expect(Math.abs(loss.dataSync()[0] - expected) / expected).toBeLessThan(
      1e-5,
    );
    loss.dispose();
  });

  it("ΔF is −∇L: finite differences of the float64 loss, and autodiff", () => {
    const objective = infoNCEObjective({ temperature: tau });
    const { delta, autodiff } = updateAndAutodiff(objective, input);
    const fd = centralDifference((x) => infoNCE64(x, a, n, k, tau), f);
    const reference = fd.map((g) => -g);
    expect(relativeError(delta, reference)).toBeLessThan(1e-5);
    expect(relativeError(delta, autodiff)).toBeLessThan(1e-5);
  });

  it("splits ΔF into alignment and uniformity updates", () => {
    const objective = infoNCEObjective({ temperature: tau });
    const { alignment, uniformity } = objective.featureUpdateTerms(input);

    // alignment: (2 / (n τ)) A F for one positive each; uniformity the rest
    const al = alignment.dataSync();
    const expected = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        for (let c = 0; c < k; c++) {
          expected[i * k + c] +=
            ((2 * a[i * n + j]) / (n * tau)) * f[j * k + c];
        }
      }
    }
    expect(relativeError(al, expected)).toBeLessThan(1e-6);
    const total = objective.featureUpdate(input);
    const diff = tf.sub(alignment, uniformity as tf.Tensor2D);
    expect(relativeError(diff.dataSync(), total.dataSync())).toBeLessThan(1e-6);
    tf.dispose([alignment, uniformity as tf.Tensor, total, diff]);
  });

  it("handles m = 3 views, anchor weights, self pairs and small blocks", () => {
    const m3 = sampledAugmentationGraph({ batchSize: 4, views: 3 });
    const n3 = 12;
    const a3 = denseGraph(m3.graph);
    const { t, v } = tensorOf(unit(normals(2, n3, k), n3, k), n3, k);
    const r = mulberry32(3);
    const weights = Float64Array.from({ length: n3 }, () => 0.2 + r());
    for (const excludeSelf of [true, false]) {
      const objective = infoNCEObjective({
        temperature: 0.3,
        excludeSelf,
        blockSize: 5,
      });
      const inp = {
        features: t,
        augmentation: m3.graph,
        anchorWeights: weights,
      };
      const loss = objective.loss(inp);
      const expected = infoNCE64(v, a3, n3, k, 0.3, weights, excludeSelf);
      expect(Math.abs(loss.dataSync()[0] - expected) / expected).toBeLessThan(
        1e-5,
      );
      loss.dispose();
      const { delta, autodiff } = updateAndAutodiff(objective, inp);
      const fd = centralDifference(
        (x) => infoNCE64(x, a3, n3, k, 0.3, weights, excludeSelf),
        v,
      );
      expect(
        relativeError(
          delta,
          fd.map((g) => -g),
        ),
      ).toBeLessThan(1e-5);
      expect(relativeError(delta, autodiff)).toBeLessThan(1e-5);
    }
    t.dispose();
  });

  it("GRACE's loss (intra + inter-view negatives) is NT-Xent", () => {
    // GRACE normalizes inside θ; give it the raw rows, and the objective
    // the same rows normalized (the network's last layer)
    const nodes = 7;
    const raw = normals(4, 2 * nodes, k);
    const { t, v } = tensorOf(unit(raw, 2 * nodes, k), 2 * nodes, k);
    const graph = sampledAugmentationGraph({ batchSize: nodes }).graph;
    const objective = graceObjective({ temperature: 0.4 });
    expect(objective.name).toBe("grace");
    const loss = objective.loss({ features: t, augmentation: graph });
    const expected = grace64(v, nodes, k, 0.4);
    expect(Math.abs(loss.dataSync()[0] - expected) / expected).toBeLessThan(
      1e-5,
    );
    tf.dispose([loss, t]);
  });

  it("frees its intermediate tensors", () => {
    const objective = infoNCEObjective({ temperature: tau, blockSize: 5 });
    const before = tf.memory().numTensors;
    const loss = objective.loss(input);
    const delta = objective.featureUpdate(input);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([loss, delta]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("spectral contrastive loss", () => {
  const b = 5;
  const n = 2 * b;
  const k = 4;
  const batch = sampledAugmentationGraph({ batchSize: b });
  const a = denseGraph(batch.graph);
  // not normalized: the spectral loss works on raw features
  const { t: F, v: f } = tensorOf(normals(5, n, k), n, k);
  const input = { features: F, augmentation: batch.graph };

  it("loss: double sums, and spectralContrastiveLoss on A/ΣA", () => {
    for (const excludeSelf of [false, true]) {
      const loss = spectralObjective({ excludeSelf }).loss(input);
      const expected = spectral64(f, a, n, k, excludeSelf);
      expect(Math.abs(loss.dataSync()[0] - expected)).toBeLessThan(
        1e-5 * Math.abs(expected),
      );
      loss.dispose();
    }
    const g = batch.graph;
    const total = g.numEdges;
    const normalized = g.withWeights(new Float32Array(total).fill(1 / total));
    const population = spectralContrastiveLoss(normalized, F);
    const ours = spectralObjective().loss(input);
    expect(
      Math.abs(population.dataSync()[0] - ours.dataSync()[0]),
    ).toBeLessThan(1e-5 * Math.abs(ours.dataSync()[0]));
    tf.dispose([population, ours]);
  });

  it("ΔF is −∇L (finite differences and autodiff)", () => {
    for (const excludeSelf of [false, true]) {
      const objective = spectralObjective({ excludeSelf, blockSize: 3 });
      const { delta, autodiff } = updateAndAutodiff(objective, input);
      const fd = centralDifference(
        (x) => spectral64(x, a, n, k, excludeSelf),
        f,
      );
      expect(
        relativeError(
          delta,
          fd.map((g) => -g),
        ),
      ).toBeLessThan(1e-5);
      expect(relativeError(delta, autodiff)).toBeLessThan(1e-5);
    }
  });

  it("refuses anchor weights", () => {
    const w = new Float64Array(n).fill(1 / n);
    const objective = spectralObjective();
    expect(() => objective.loss({ ...input, anchorWeights: w })).toThrow(
      NotImplementedError,
    );
  });
});

describe("SimSiam and BYOL", () => {
  const b = 6;
  const n = 2 * b;
  const k = 5;
  const batch = sampledAugmentationGraph({ batchSize: b });
  const rawP = normals(6, n, k);
  const rawZ = normals(7, n, k);
  const { t: F, v: f } = tensorOf(unit(rawP, n, k), n, k);
  const { t: T, v: tv } = tensorOf(unit(rawZ, n, k), n, k);
  const input = { features: F, targets: T, augmentation: batch.graph };

  it("losses match ½D(p₁, z₂) + ½D(p₂, z₁) and BYOL's 2 − 2cos sums", () => {
    const simsiam = simSiamObjective().loss(input);
    const expected =
      0.5 * negCos(rawP, rawZ, b, k, 0, b) +
      0.5 * negCos(rawP, rawZ, b, k, b, 0);
    expect(Math.abs(simsiam.dataSync()[0] - expected)).toBeLessThan(1e-6);

    // BYOL: mean over the batch of loss(q₁, z'₂) + loss(q₂, z'₁)
    const byol = byolObjective().loss(input);
    const expectedByol =
      2 +
      2 * negCos(rawP, rawZ, b, k, 0, b) +
      2 +
      2 * negCos(rawP, rawZ, b, k, b, 0);
    expect(Math.abs(byol.dataSync()[0] - expectedByol)).toBeLessThan(1e-5);
    tf.dispose([simsiam, byol]);
  });

  it("ΔF is pure alignment with the targets, −∇L", () => {
    for (const objective of [simSiamObjective(), byolObjective()]) {
      const scale = objective.name === "byol" ? 4 : 1;
      const { alignment, uniformity } = objective.featureUpdateTerms(input);
      expect(uniformity).toBeNull();

      // ΔF_i = (c / n) T_pos(i)
      const expected = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        const p = (i + b) % n;
        for (let c = 0; c < k; c++) {
          expected[i * k + c] = (scale / n) * tv[p * k + c];
        }
      }
      expect(relativeError(alignment.dataSync(), expected)).toBeLessThan(1e-6);
      alignment.dispose();
      const { delta, autodiff } = updateAndAutodiff(objective, input);
      expect(relativeError(delta, autodiff)).toBeLessThan(1e-6);

      // finite differences in F of the literal loss (T held fixed)
      const loss64 = (x: Float64Array) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          s += dotRows(x, i, tv, (i + b) % n, k);
        }
        return objective.name === "byol" ? (2 / n) * (2 * n - 2 * s) : -s / n;
      };
      const fd = centralDifference(loss64, f);
      expect(
        relativeError(
          delta,
          fd.map((g) => -g),
        ),
      ).toBeLessThan(1e-5);
    }
  });

  it("needs targets of F's shape", () => {
    const objective = simSiamObjective();
    expect(() =>
      objective.featureUpdate({ features: F, augmentation: batch.graph }),
    ).toThrow(ShapeError);
    const bad = tf.zeros([n, k + 1]) as tf.Tensor2D;
    expect(() => objective.loss({ ...input, targets: bad })).toThrow(
      ShapeError,
    );
    bad.dispose();
  });
});

describe("checks", () => {
  it("rejects bad options and shapes with typed errors", () => {
    expect(() => infoNCEObjective({ temperature: 0 })).toThrow(ConfigError);
    expect(() => graceObjective({ temperature: Number.NaN })).toThrow(
      ConfigError,
    );
    expect(() =>
      createObjective({ name: "nope" } as unknown as { name: "byol" }),
    ).toThrow(ConfigError);
    expect(createObjective({ name: "spectral" }).name).toBe("spectral");

    const g = sampledAugmentationGraph({ batchSize: 3 }).graph;
    const wrong = tf.zeros([5, 2]) as tf.Tensor2D;
    expect(() =>
      infoNCEObjective().featureUpdate({ features: wrong, augmentation: g }),
    ).toThrow(ShapeError);
    const f = tf.zeros([6, 2]) as tf.Tensor2D;
    expect(() =>
      infoNCEObjective().loss({
        features: f,
        augmentation: g,
        anchorWeights: [1, 2],
      }),
    ).toThrow(ShapeError);
    expect(() =>
      infoNCEObjective().loss({
        features: f,
        augmentation: g,
        anchorWeights: [1, 1, 1, 1, 1, -1],
      }),
    ).toThrow(ConfigError);
    tf.dispose([wrong, f]);
  });

  it("uses a weighted augmentation graph's positive means", () => {
    // views 0..3; 0 and 1 positives with weight 3, 0 and 2 with weight 1,
    // 3 with 1 (weight 2): mean over positives is weighted
    const g = Graph.fromEdges([0, 1, 0, 2, 3, 1], [1, 0, 2, 0, 1, 3], {
      numNodes: 4,
      weights: [3, 3, 1, 1, 2, 2],
    });
    const k = 3;
    const { t, v } = tensorOf(unit(normals(8, 4, k), 4, k), 4, k);
    const a = denseGraph(g);
    const objective = infoNCEObjective({ temperature: 0.7 });
    const loss = objective.loss({ features: t, augmentation: g });
    const expected = infoNCE64(v, a, 4, k, 0.7);
    expect(Math.abs(loss.dataSync()[0] - expected) / expected).toBeLessThan(
      1e-5,
    );
    const delta = objective.featureUpdate({ features: t, augmentation: g });
    const fd = centralDifference((x) => infoNCE64(x, a, 4, k, 0.7), v);
    expect(
      relativeError(
        delta.dataSync(),
        fd.map((x) => -x),
      ),
    ).toBeLessThan(1e-5);
    tf.dispose([loss, delta, t]);
  });
});

describe("uniformityUpdate options used by the objectives", () => {
  it("infonce: rows weighted by anchorWeights, columns by degrees", () => {
    // (P + Pᵀ) F with P(i, j) = r_i D_j e^{s_ij} / Σ_{l≠i} D_l e^{s_il}
    const n = 9;
    const k = 3;
    const tau = 0.6;
    const { t, v } = tensorOf(unit(normals(9, n, k), n, k), n, k);
    const rand = mulberry32(10);
    const deg = Float64Array.from({ length: n }, () => 0.5 + rand());
    const rows = Float64Array.from({ length: n }, () => rand());
    for (const excludeSelf of [true, false]) {
      const u = uniformityUpdate(t, {
        kind: "infonce",
        temperature: tau,
        degrees: deg,
        anchorWeights: rows,
        excludeSelf,
        blockSize: 4,
      });
      const p = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        let z = 0;
        for (let j = 0; j < n; j++) {
          if (j === i && excludeSelf) continue;
          z += deg[j] * Math.exp(dotRows(v, i, v, j, k) / tau);
        }
        for (let j = 0; j < n; j++) {
          if (j === i && excludeSelf) continue;
          p[i * n + j] =
            (rows[i] * deg[j] * Math.exp(dotRows(v, i, v, j, k) / tau)) / z;
        }
      }
      const expected = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const w = p[i * n + j] + p[j * n + i];
          for (let c = 0; c < k; c++) expected[i * k + c] += w * v[j * k + c];
        }
      }
      expect(relativeError(u.dataSync(), expected)).toBeLessThan(1e-5);
      u.dispose();
    }
    expect(() =>
      uniformityUpdate(t, { kind: "infonce", anchorWeights: [1, 2] }),
    ).toThrow(ShapeError);
    expect(() =>
      uniformityUpdate(t, {
        kind: "infonce",
        anchorWeights: new Float64Array(n).fill(-1),
      }),
    ).toThrow(ConfigError);
    t.dispose();
  });

  it("spectral with excludeSelf: (F Fᵀ − diag) F", () => {
    const n = 7;
    const k = 3;
    const { t, v } = tensorOf(normals(11, n, k), n, k);
    const u = uniformityUpdate(t, { excludeSelf: true, blockSize: 3 });
    const expected = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const s = dotRows(v, i, v, j, k);
        for (let c = 0; c < k; c++) expected[i * k + c] += s * v[j * k + c];
      }
    }
    expect(relativeError(u.dataSync(), expected)).toBeLessThan(1e-5);
    tf.dispose([u, t]);
  });
});
