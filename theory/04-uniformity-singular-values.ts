/**
 * Check 4, uniformity alone acts on singular values (Wang et al. 2023,
 * §4): the uniformity step `F ← F − β (F Fᵀ) F` maps the SVD
 * `F = U Σ Vᵀ` to `U (Σ − β Σ³) Vᵀ`, so each singular value σ becomes
 * `σ − β σ³` exactly, per step, with the singular vectors unchanged. The
 * step is taken with `uniformityUpdate` (spectral kind, τ = 1: propagation
 * over the affinity graph F Fᵀ) on float32 tensors; the singular values
 * are measured in float64 from the float32 features.
 */

import { tf } from "../src/backend.js";
import { uniformityUpdate } from "../src/contrastive/updates.js";
import {
  FIGURE_CONFIG,
  FIT_AUTOSIZE,
  VEGA_LITE_SCHEMA,
} from "../src/plot/common.js";
import type { VegaLiteSpec } from "../src/plot/render.js";
import { mulberry32, randomNormal } from "../src/random.js";
import { singularValues } from "../src/spectral/rank.js";
import {
  type CheckOptions,
  type CheckResult,
  formatNumber,
  relativeError,
  resolveCheckOptions,
  type TheoryCheck,
} from "./check.js";

/**
 * Largest relative error between a measured singular value and the map
 * applied to the previous step's measured value: float32 features give
 * errors of a few times 2^−24 ≈ 6e-8 relative to σ_max, and the smallest
 * σ here is 0.2 σ_max.
 */
export const SINGULAR_VALUE_TOLERANCE = 1e-5;

/**
 * Check 4. Sizes: "small" N = 200, k = 6, 12 steps; "full" N = 4000,
 * k = 8, 40 steps; β = 0.2 in both. F0 = Q diag(σ0) R with Q, R random
 * orthonormal-ish (Gram–Schmidt of normal draws) and σ0 spread evenly over
 * [0.2, 1.2], where `σ − β σ³` is increasing (σ < 1/√(3β) ≈ 1.29), so the
 * order of the singular values is kept. The perturbation replaces β in
 * the prediction by `β (1 + perturbation)`.
 */
export const uniformitySingularValuesCheck: TheoryCheck = {
  id: "4",
  title: "Uniformity alone: σ → σ − βσ³",
  claim:
    "One uniformity step F ← F − β (F Fᵀ) F maps each singular value σ " +
    "of F to σ − β σ³.",
  async run(options: CheckOptions = {}): Promise<CheckResult> {
    const { size, seed, perturbation } = resolveCheckOptions(
      "uniformitySingularValuesCheck",
      options,
    );
    const full = size === "full";
    const n = full ? 4000 : 200;
    const k = full ? 8 : 6;
    const steps = full ? 40 : 12;
    const beta = 0.2;
    const betaPredicted = beta * (1 + perturbation);

    // F0 with prescribed singular values
    const random = mulberry32(seed);
    const q = orthonormalColumns(n, k, random);
    const r = orthonormalColumns(k, k, random);
    const sigma0 = Array.from(
      { length: k },
      (_, i) => 1.2 - (i * 1.0) / (k - 1),
    );
    const f0 = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        let v = 0;
        for (let c = 0; c < k; c++) {
          v += q[i * k + c] * sigma0[c] * r[j * k + c];
        }
        f0[i * k + j] = v;
      }
    }

    // iterate, measuring σ after each step and predicting it from the
    // previous step's measured σ
    let features = tf.tensor2d(f0, [n, k]);
    const measured: number[][] = [Array.from(singularValues(features))];
    const predicted: number[][] = [measured[0].slice()];
    let worst = 0;
    for (let t = 1; t <= steps; t++) {
      const next = tf.tidy(() =>
        tf.sub(features, tf.mul(beta, uniformityUpdate(features))),
      ) as tf.Tensor2D;
      features.dispose();
      features = next;
      const sigma = Array.from(singularValues(features));
      const guess = measured[t - 1].map((s) => s - betaPredicted * s ** 3);
      for (let i = 0; i < k; i++) {
        worst = Math.max(worst, relativeError(sigma[i], guess[i]));
      }
      measured.push(sigma);
      predicted.push(guess);
    }
    features.dispose();

    // figure: each σ's trajectory, measured solid and predicted dashed
    const spec = trajectoryChart(measured, predicted, {
      title: "Check 4: uniformity alone, σ → σ − βσ³",
      subtitle:
        `N = ${n}, k = ${k}, β = ${beta}; dashed: the map applied to the ` +
        "previous step's measured σ",
    });

    const last = measured[steps];
    return {
      id: "4",
      claim: uniformitySingularValuesCheck.claim,
      predicted: Number(predicted[steps][k - 1].toPrecision(7)),
      measured: Number(last[k - 1].toPrecision(7)),
      tolerance: "max relative error per step < 1e-5 (float32 features)",
      pass: worst < SINGULAR_VALUE_TOLERANCE,
      details: {
        nodes: n,
        k,
        steps,
        beta,
        seed,
        maxRelativeError: formatNumber(worst),
        sigmaMaxFinal: formatNumber(last[0]),
        sigmaMinFinal: formatNumber(last[k - 1]),
      },
      figures: [{ name: "04-uniformity-singular-values", spec }],
    };
  },
};

/**
 * `cols` orthonormal columns of length `rows` (row-major `[rows, cols]`,
 * float64): modified Gram–Schmidt of standard normal draws.
 */
function orthonormalColumns(
  rows: number,
  cols: number,
  random: () => number,
): Float64Array {
  const m = new Float64Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = randomNormal(random);
  for (let c = 0; c < cols; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += m[i * cols + c] * m[i * cols + p];
      for (let i = 0; i < rows; i++) m[i * cols + c] -= dot * m[i * cols + p];
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += m[i * cols + c] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < rows; i++) m[i * cols + c] /= norm;
  }
  return m;
}

/**
 * The σ trajectories: one coloured solid line per measured singular
 * value, and over it a black dashed line per predicted one.
 */
function trajectoryChart(
  measured: number[][],
  predicted: number[][],
  text: { title: string; subtitle: string },
): VegaLiteSpec {
  const rows: { step: number; sigma: number; name: string; kind: string }[] =
    [];
  const kinds = ["measured", "predicted σ − βσ³"];
  [measured, predicted].forEach((values, which) => {
    values.forEach((sigmas, step) => {
      sigmas.forEach((sigma, i) => {
        rows.push({ step, sigma, name: `σ${i + 1}`, kind: kinds[which] });
      });
    });
  });
  const x = { field: "step", type: "quantitative", title: "step" };
  const y = {
    field: "sigma",
    type: "quantitative",
    title: "singular value σ",
    scale: { zero: false },
  };
  const dash = {
    field: "kind",
    type: "nominal",
    title: null,
    scale: {
      domain: kinds,
      range: [
        [1, 0],
        [5, 4],
      ],
    },
    legend: { symbolType: "stroke", symbolStrokeColor: "black" },
  };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: text.title, subtitle: text.subtitle },
    width: 620,
    height: 380,
    autosize: FIT_AUTOSIZE,
    config: FIGURE_CONFIG,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: `datum.kind === '${kinds[0]}'` }],
        mark: { type: "line", strokeWidth: 4, opacity: 0.8 },
        encoding: {
          x,
          y,
          color: {
            field: "name",
            type: "nominal",
            title: "singular value",
            legend: { symbolType: "stroke", symbolStrokeWidth: 4 },
          },
          strokeDash: dash,
        },
      },
      {
        transform: [{ filter: `datum.kind === '${kinds[1]}'` }],
        mark: { type: "line", strokeWidth: 1.5, color: "black" },
        encoding: { x, y, detail: { field: "name" }, strokeDash: dash },
      },
    ],
  } as VegaLiteSpec;
}
