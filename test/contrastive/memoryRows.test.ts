/**
 * Multi-stage alignment with one mix weight per row (rows whose sample
 * has no memory yet keep the base target): the SimSiam loss with the
 * per-row mixed target written out in float64 here, the update against
 * its closed form −∂L/∂F = (1/n)((1 − μ_i)(R T)_i + μ_i M̄_i), the loss
 * form's autodiff gradient agreeing, and the bank's entry counts.
 * Seeded inputs; tolerances stated.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { sampledAugmentationGraph } from "../../src/contrastive/augmentation.js";
import { simSiamObjective } from "../../src/contrastive/objectives.js";
import {
  MemoryBank,
  multiStageObjective,
} from "../../src/contrastive/tricks/memory.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { mulberry32, randomNormal } from "../../src/random.js";

function normals(n: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => randomNormal(r));
}

describe("multiStageObjective with a per-row mix", () => {
  // B = 4 samples, 2 views: n = 8 rows of width 3
  const b = 4;
  const n = 2 * b;
  const k = 3;
  const aug = sampledAugmentationGraph({ batchSize: b, views: 2 }).graph;
  const f64 = normals(n * k, 21);
  const t64 = normals(n * k, 22);
  const m64 = normals(n * k, 23);
  // samples 1 and 3 without memory: μ = 0 on their rows in both views
  const mu = Float32Array.from({ length: n }, (_, i) =>
    i % b === 1 || i % b === 3 ? 0 : 0.75,
  );

  /** −(1/n) Σ_i F_i · ((1 − μ_i) T_pos(i) + μ_i M̄_i), in float64. */
  function reference(f: Float64Array): number {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const pos = (i + b) % n;
      for (let c = 0; c < k; c++) {
        const target = (1 - mu[i]) * t64[pos * k + c] + mu[i] * m64[i * k + c];
        total -= (f[i * k + c] * target) / n;
      }
    }
    return total;
  }

  it("loss, closed-form update and autodiff agree", () => {
    const f = tf.tensor2d(Float32Array.from(f64), [n, k]);
    const targets = tf.tensor2d(Float32Array.from(t64), [n, k]);
    const memory = tf.tensor2d(Float32Array.from(m64), [n, k]);
    const objective = multiStageObjective(simSiamObjective(), memory, {
      mix: mu,
    });
    const input = { features: f, augmentation: aug, targets };

    // the loss against the float64 reference (float32 sums: 1e-5)
    const loss = objective.loss(input);
    const fx = Float64Array.from(f.dataSync());
    expect(Math.abs(loss.dataSync()[0] - reference(fx))).toBeLessThan(1e-5);

    // the update against (1/n)((1 − μ_i) T_pos(i) + μ_i M̄_i)
    const update = objective.featureUpdate(input);
    const got = update.dataSync();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const pos = (i + b) % n;
      for (let c = 0; c < k; c++) {
        const want =
          ((1 - mu[i]) * t64[pos * k + c] + mu[i] * m64[i * k + c]) / n;
        worst = Math.max(worst, Math.abs(got[i * k + c] - want));
      }
    }
    expect(worst).toBeLessThan(1e-6);

    // the rows with μ = 0 are the base objective's rows exactly
    const base = simSiamObjective().featureUpdate(input);
    const baseRows = base.dataSync();
    for (const i of [1, 3, 5, 7]) {
      for (let c = 0; c < k; c++) {
        expect(got[i * k + c]).toBe(baseRows[i * k + c]);
      }
    }

    // the "loss" form's autodiff gradient is −update (1e-6)
    const auto = tf.grad((g: tf.Tensor) =>
      objective.loss({ ...input, features: g as tf.Tensor2D }),
    )(f);
    expect(tf.max(tf.abs(tf.add(auto, update))).dataSync()[0]).toBeLessThan(
      1e-6,
    );
    tf.dispose([f, targets, memory, loss, update, base, auto]);
  });

  it("refuses a per-row mix of the wrong length or outside [0, 1]", () => {
    const memory = tf.tensor2d(Float32Array.from(m64), [n, k]);
    const f = tf.tensor2d(Float32Array.from(f64), [n, k]);
    const targets = tf.tensor2d(Float32Array.from(t64), [n, k]);
    expect(() =>
      multiStageObjective(simSiamObjective(), memory, {
        mix: Float32Array.of(0.5, 1.5),
      }),
    ).toThrow(ConfigError);
    const short = multiStageObjective(simSiamObjective(), memory, {
      mix: new Float32Array(n - 1),
    });
    expect(() =>
      short.featureUpdate({ features: f, augmentation: aug, targets }),
    ).toThrow(ShapeError);
    tf.dispose([memory, f, targets]);
  });
});

describe("MemoryBank.entries", () => {
  it("counts each sample's entries up to r", () => {
    const bank = new MemoryBank(3, 1, 2);
    bank.push([0, 2], [1, 2]);
    bank.push([0], [3]);
    bank.push([0], [4]);
    expect([0, 1, 2].map((s) => bank.entries(s))).toEqual([2, 0, 1]);
    // the mean of sample 0 is that of its last two entries, (3 + 4) / 2
    expect(Array.from(bank.mean([0, 1]))).toEqual([3.5, 0]);
  });
});
