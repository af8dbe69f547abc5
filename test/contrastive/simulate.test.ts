/**
 * simulate(): the recorded trajectory and the convergence claim.
 *
 * Alignment + uniformity (spectral, β = 0.5) from a small random start on
 * a three-block SBM-like graph converge to the top-3 eigenspace of Ā:
 * subspace distance < 1e-6 and squared singular values equal to the top-3
 * eigenvalues within 1e-6 (absolute), after 2,000 steps, in float32.
 * Recorded metrics are compared with direct calls of the spectral
 * metrics; NaN/Inf raise SimulationError with the step and the last good
 * features.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { spectralLossFeatureSpace } from "../../src/contrastive/losses.js";
import {
  SimulationError,
  simulate,
  topEigenspace,
} from "../../src/contrastive/simulate.js";
import { contrastiveStep } from "../../src/contrastive/updates.js";
import { ConfigError, NumericalError, ShapeError } from "../../src/errors.js";
import type { Graph } from "../../src/graph/graph.js";
import { symmetricEigenvalues } from "../../src/spectral/dense.js";
import { dirichletEnergy } from "../../src/spectral/energy.js";
import {
  gaussian,
  plantedPartition,
  seededRandom,
} from "../spectral/helpers.js";

/** Seeded float32 features `[n, k]`, entries scale · N(0, 1). */
function randomFeatures(
  seed: number,
  n: number,
  k: number,
  scale: number,
): tf.Tensor2D {
  const g = gaussian(seededRandom(seed));
  const data = Float32Array.from({ length: n * k }, () => scale * g());
  return tf.tensor2d(data, [n, k]);
}

/** Dense float64 Ā of a graph. */
function denseAbar(g: Graph): Float64Array {
  const n = g.numNodes;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
      a[i * n + g.colIdx[e]] += g.weight(e);
    }
  }
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) deg[i] += a[i * n + j];
  }
  return a.map((v, idx) => {
    const i = Math.floor(idx / n);
    return v / Math.sqrt(deg[i] * deg[idx % n]);
  });
}

describe("simulate", () => {
  it("alignment + uniformity converge to the top-k eigenspace of Ā", () => {
    const g = plantedPartition(1, 3, 20, 0.5, 0.03);
    const n = g.numNodes;
    const k = 3;

    // the independent reference: dense eigenvalues of Ā, with a clear gap
    const all = symmetricEigenvalues(denseAbar(g), n);
    const top = [all[n - 1], all[n - 2], all[n - 3]];
    expect(top[2] - all[n - 4]).toBeGreaterThan(0.2);

    const F0 = randomFeatures(2, n, k, 0.01);
    const rule = (F: tf.Tensor2D) => contrastiveStep(g, F, { beta: 0.5 });
    const tr = simulate(rule, F0, {
      steps: 2000,
      record: 500,
      metrics: {
        augmentationGraph: g,
        k,
        loss: (F) => spectralLossFeatureSpace(g, F),
      },
    });
    expect(Array.from(tr.steps)).toEqual([0, 500, 1000, 1500, 2000]);
    const last = tr.steps.length - 1;
    const distance = tr.subspaceDistance as Float64Array;
    expect(distance[0]).toBeGreaterThan(0.5);
    expect(distance[last]).toBeLessThan(1e-6);

    const m = tr.numSingularValues;
    expect(m).toBe(k);
    for (let i = 0; i < k; i++) {
      const sigma = tr.singularValues[last * m + i];
      expect(Math.abs(sigma * sigma - top[i])).toBeLessThan(1e-6);
      expect(
        Math.abs((tr.eigenvalues as Float64Array)[i] - top[i]),
      ).toBeLessThan(1e-10);
    }

    // the loss at the fixed point: −Σ_{i ≤ k} λ_i² (Eckart–Young)
    const loss = tr.loss as Float64Array;
    const optimum = -top.reduce((s, l) => s + l * l, 0);
    expect(Math.abs(loss[last] - optimum)).toBeLessThan(1e-5);
    expect(loss[0]).toBeGreaterThan(loss[last]);

    // recorded Dirichlet energy equals a direct call on the final F
    const energy = tr.dirichletEnergy as Float64Array;
    expect(energy[last]).toBeCloseTo(dirichletEnergy(g, tr.final), 10);
    expect(tr.effectiveRank[last]).toBeGreaterThan(2.5);
    tf.dispose([F0, tr.final]);
  });

  it("records listed steps, or every step, and leaks no tensor", () => {
    const g = plantedPartition(3, 2, 10, 0.6, 0.1);
    const F0 = randomFeatures(4, 20, 2, 0.3);
    const rule = (F: tf.Tensor2D) => contrastiveStep(g, F, { beta: 0.2 });
    const before = tf.memory().numTensors;
    const a = simulate(rule, F0, { steps: 6, record: [6, 2, 2, 0] });
    expect(Array.from(a.steps)).toEqual([0, 2, 6]);
    expect(a.subspaceDistance).toBeNull();
    expect(a.dirichletEnergy).toBeNull();
    expect(a.loss).toBeNull();
    const b = simulate(rule, F0, { steps: 6 });
    expect(Array.from(b.steps)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(b.singularValues.slice(12)).toEqual(a.singularValues.slice(4));
    expect(Array.from(b.collapse.slice(6))).toEqual(
      Array.from(a.collapse.slice(2)),
    );
    tf.dispose([a.final, b.final]);
    expect(tf.memory().numTensors).toBe(before);
    F0.dispose();
  });

  it("alignment alone collapses: effective rank and monitor fall", () => {
    const g = plantedPartition(5, 1, 30, 0.4, 0);
    const F0 = randomFeatures(6, 30, 3, 1);
    const beta = 0.5;
    const rule = (F: tf.Tensor2D) =>
      tf.tidy(() =>
        contrastiveStep(g, F, { beta, terms: "alignment" }).div(1 + beta),
      ) as tf.Tensor2D;
    const tr = simulate(rule, F0, {
      steps: 200,
      record: 200,
      metrics: { augmentationGraph: g, k: 1 },
    });
    expect(tr.effectiveRank[0]).toBeGreaterThan(2);
    expect(tr.effectiveRank[1]).toBeLessThan(1.01);
    expect(tr.collapse[1]).toBeLessThan(1e-3 * tr.collapse[0]);
    // k = 1 against three columns: the distance keeps √((3 − 1)/2) = 1
    const distance = tr.subspaceDistance as Float64Array;
    expect(Math.abs(distance[1] - 1)).toBeLessThan(1e-5);
    tf.dispose([F0, tr.final]);
  });

  it("raises SimulationError at the NaN step, keeping the last good F", () => {
    const F0 = randomFeatures(7, 10, 2, 1);
    let calls = 0;
    const rule = (F: tf.Tensor2D) => {
      calls++;
      return calls === 5 ? F.mul(Number.NaN) : F.mul(2);
    };
    let caught: unknown = null;
    try {
      simulate(rule as (F: tf.Tensor2D) => tf.Tensor2D, F0, {
        steps: 10,
        record: 2,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SimulationError);
    expect(caught).toBeInstanceOf(NumericalError);
    const error = caught as SimulationError;
    expect(error.step).toBe(5);
    expect(Array.from(error.trajectory.steps)).toEqual([0, 2, 4]);
    const expected = Float32Array.from(F0.dataSync(), (v) => v * 16);
    expect(Array.from(error.lastGood.dataSync())).toEqual(Array.from(expected));
    tf.dispose([F0, error.lastGood]);
  });

  it("detects a divergence to Inf of a too large step", () => {
    const g = plantedPartition(8, 2, 10, 0.6, 0.1);
    const F0 = randomFeatures(9, 20, 2, 1);
    const rule = (F: tf.Tensor2D) =>
      contrastiveStep(g, F, { beta: 5, terms: "uniformity" });
    expect(() => simulate(rule, F0, { steps: 100, record: 10 })).toThrow(
      SimulationError,
    );
    F0.dispose();
  });

  it("caches the eigenspace per graph and k", () => {
    const g = plantedPartition(10, 2, 10, 0.6, 0.1);
    expect(topEigenspace(g, 2)).toBe(topEigenspace(g, 2));
    expect(topEigenspace(g, 2)).not.toBe(topEigenspace(g, 3));
  });

  it("raises typed errors for bad arguments", () => {
    const g = plantedPartition(11, 2, 10, 0.6, 0.1);
    const F0 = randomFeatures(12, 20, 2, 1);
    const id = (F: tf.Tensor2D) => F;
    expect(() => simulate(id, F0, { steps: -1 })).toThrow(ConfigError);
    expect(() => simulate(id, F0, { steps: 3, record: [4] })).toThrow(
      ConfigError,
    );
    expect(() => simulate(id, F0, { steps: 3, record: 0 })).toThrow(
      ConfigError,
    );
    expect(() =>
      simulate(id, F0, { steps: 3, metrics: { augmentationGraph: g, k: 21 } }),
    ).toThrow(ConfigError);
    const small = plantedPartition(13, 1, 5, 1, 0);
    expect(() =>
      simulate(id, F0, { steps: 3, metrics: { augmentationGraph: small } }),
    ).toThrow(ShapeError);
    const bad = (F: tf.Tensor2D) => F.slice([0, 0], [19, 2]) as tf.Tensor2D;
    expect(() => simulate(bad, F0, { steps: 3 })).toThrow(ShapeError);

    // the identity keeps F0 alive and returns a copy
    const tr = simulate(id, F0, { steps: 3 });
    expect(tr.final).not.toBe(F0);
    expect(F0.isDisposed).toBe(false);
    tf.dispose([F0, tr.final]);
  });
});
