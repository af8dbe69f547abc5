/**
 * Check 5, the equilibrium of alignment and uniformity (Wang et al. 2023,
 * §4): the spectral contrastive step, in the degree-scaled variable
 * `F = D^1/2 F_f`,
 *
 *   F ← F + β (Ā F − F Fᵀ F)
 *
 * (`contrastiveStep`, kind "spectral", τ = 1: alignment over Ā minus
 * uniformity over the affinity graph F Fᵀ) has the fixed points
 * `F = U_k Λ_k^1/2 R`, U_k the top-k eigenvectors of Ā, Λ_k their
 * eigenvalues, R orthogonal: span(F) is the top-k eigenspace and the
 * squared singular values of F are the top-k eigenvalues. Linearized
 * there, the part of F outside the top-k space along eigenvector j > k
 * and inside along i ≤ k shrinks by `1 + β(λ_j − λ_i)` per step, so the
 * slowest escape from a wrong subspace has factor `1 − β(λ_k − λ_{k+1})`.
 * Inside the subspace, the scale of the top direction moves by
 * `1 − 2βλ_1 = 1 − 2β` per step (λ_1 = 1), so the fixed point is stable
 * only for β < 1: with β > 1 a tiny perturbation grows by `2β − 1`.
 */

import { tf } from "../src/backend.js";
import { contrastiveStep } from "../src/contrastive/updates.js";
import { stochasticBlockModel } from "../src/graph/generators.js";
import type { Graph } from "../src/graph/graph.js";
import { lineChart } from "../src/plot/line.js";
import { panels } from "../src/plot/panels.js";
import { mulberry32, randomNormal } from "../src/random.js";
import { eigsh } from "../src/spectral/eigsh.js";
import type { DenseMatrix } from "../src/spectral/matrix.js";
import { normalizedAdjacencyOperator } from "../src/spectral/operators.js";
import { singularValues } from "../src/spectral/rank.js";
import { subspaceDistance } from "../src/spectral/subspace.js";
import { fitDecayFactor } from "./03-alignment-collapse.js";
import {
  type CheckOptions,
  type CheckResult,
  formatNumber,
  relativeError,
  resolveCheckOptions,
  type TheoryCheck,
} from "./check.js";

/** Largest final subspace distance to the top-k eigenspace that passes. */
export const SUBSPACE_TOLERANCE = 1e-6;

/** Largest `|σ_i² − λ_i|` at the end of the run that passes. */
export const EIGENVALUE_TOLERANCE = 1e-6;

/** Largest relative error of the fitted escape factor that passes. */
export const ESCAPE_RATE_TOLERANCE = 0.05;

/**
 * With β > 1 the distance to the fixed point must grow by at least this
 * factor over the run for the check to count it as leaving.
 */
export const DIVERGENCE_GROWTH = 1e3;

/** The subspace distances fitted for the escape factor lie in here. */
const FIT_RANGE: readonly [number, number] = [3e-6, 1e-3];

/** Size of the noise added to the fixed point in the β > 1 run. */
const NOISE = 1e-6;

/** The β of the unstable run; its predicted growth is 2β − 1. */
const UNSTABLE_BETA = 1.2;

/** One spectral contrastive step; F is not disposed. */
function step(graph: Graph, F: tf.Tensor2D, beta: number): tf.Tensor2D {
  return contrastiveStep(graph, F, { beta });
}

/**
 * `‖F Fᵀ − U Λ Uᵀ‖_F`, the distance of F to the fixed points (it does not
 * depend on the rotation R). f is row-major `[N, k]`, u row-major
 * `[N, k]` with orthonormal columns.
 */
function fixedPointDistance(
  f: ArrayLike<number>,
  u: Float64Array,
  lambda: ArrayLike<number>,
  n: number,
  k: number,
): number {
  let sq = 0;
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      let d = 0;
      for (let j = 0; j < k; j++) {
        d +=
          f[x * k + j] * f[y * k + j] - u[x * k + j] * lambda[j] * u[y * k + j];
      }
      sq += d * d;
    }
  }
  return Math.sqrt(sq);
}

/**
 * Check 5. The graph: an SBM of two groups of two blocks, edge
 * probability pIn within a block, pMid between the blocks of a group,
 * pOut between groups; "small" blocks of 30 (pIn 0.5, pMid 0.1, pOut
 * 0.02), "full" blocks of 60 (0.3, 0.06, 0.01). Its eigenvalues: λ1 = 1,
 * λ2 (the split of the groups), λ3 ≈ λ4 (the splits within groups), then
 * the bulk well below, so with k = 2 the eigenvalue λ_{k+1} is isolated
 * from the bulk and the slowest escape is not blurred by a continuum of
 * nearly as slow ones. β = 0.8, 300 steps, F0 i.i.d. normal scaled to
 * `0.1 / √N` per entry. Measured: the subspace distance of span(F) to the
 * top-k eigenspace (eigsh) and `max_i |σ_i² − λ_i|` at the end; the
 * escape factor, by least squares on the log of the subspace distance
 * over the steps where it lies in [3e-6, 1e-3] (above the float32 floor
 * of a few 1e-7). Then β = 1.2 from the fixed point `U_k Λ_k^1/2` plus
 * normal noise of size 1e-6, and β = 0.8 from the same start, 60 steps
 * each. The perturbation multiplies the
 * predicted escape factor by `1 + perturbation`.
 */
export const equilibriumCheck: TheoryCheck = {
  id: "5",
  title: "Alignment + uniformity converge to the top-k eigenspace",
  claim:
    "F ← F + β (Ā F − F Fᵀ F) converges to the top-k eigenspace of Ā with " +
    "σ_i² = λ_i, escaping a wrong subspace at the slowest rate " +
    "1 − β(λk − λk+1), and leaves the fixed point when β > 1.",
  async run(options: CheckOptions = {}): Promise<CheckResult> {
    const { size, seed, perturbation } = resolveCheckOptions(
      "equilibriumCheck",
      options,
    );
    const full = size === "full";
    const k = 2;
    const block = full ? 60 : 30;
    const steps = 300;
    const beta = 0.8;

    // the graph (two groups of two blocks) and its top k + 1 eigenpairs
    const [pIn, pMid, pOut] = full ? [0.3, 0.06, 0.01] : [0.5, 0.1, 0.02];
    const { graph } = stochasticBlockModel(
      {
        sizes: [block, block, block, block],
        probabilities: [
          [pIn, pMid, pOut, pOut],
          [pMid, pIn, pOut, pOut],
          [pOut, pOut, pIn, pMid],
          [pOut, pOut, pMid, pIn],
        ],
      },
      { seed },
    );
    const n = graph.numNodes;
    const eig = eigsh(normalizedAdjacencyOperator(graph), k + 1);
    const lambda = eig.values;
    const u = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) u[i * k + j] = eig.vectors[i * (k + 1) + j];
    }
    const top: DenseMatrix = { data: u, rows: n, cols: k };
    const exact = 1 - beta * (lambda[k - 1] - lambda[k]);
    const predicted = exact * (1 + perturbation);

    // converge from a small random start
    const random = mulberry32(seed + 1);
    const f0 = new Float32Array(n * k);
    const scale = 0.1 / Math.sqrt(n);
    for (let i = 0; i < f0.length; i++) f0[i] = scale * randomNormal(random);
    let F = tf.tensor2d(f0, [n, k]);
    const distances: number[] = [subspaceDistance(F, top)];
    for (let t = 0; t < steps; t++) {
      const next = step(graph, F, beta);
      F.dispose();
      F = next;
      distances.push(subspaceDistance(F, top));
    }
    const sigma = singularValues(F, { method: "qr" });
    F.dispose();
    const finalDistance = distances[steps];
    let eigenvalueError = 0;
    for (let j = 0; j < k; j++) {
      eigenvalueError = Math.max(
        eigenvalueError,
        Math.abs(sigma[j] * sigma[j] - lambda[j]),
      );
    }

    // the escape factor over the asymptotic stretch of the distance
    const window: number[] = [];
    for (let t = 0; t <= steps; t++) {
      if (distances[t] >= FIT_RANGE[0] && distances[t] <= FIT_RANGE[1]) {
        window.push(t);
      }
    }
    const measured =
      window.length >= 3
        ? fitDecayFactor(
            window,
            window.map((t) => distances[t]),
          )
        : Number.NaN;
    const error = relativeError(measured, predicted);

    // β > 1 (and β for contrast) from the fixed point plus tiny noise
    const fStar = new Float32Array(n * k);
    const noise = mulberry32(seed + 2);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        fStar[i * k + j] =
          u[i * k + j] * Math.sqrt(lambda[j]) +
          (NOISE / Math.sqrt(n * k)) * randomNormal(noise);
      }
    }
    const perturbedRun = (b: number, count: number): number[] => {
      let G = tf.tensor2d(fStar, [n, k]);
      const out = [fixedPointDistance(G.dataSync(), u, lambda, n, k)];
      for (let t = 0; t < count; t++) {
        const next = step(graph, G, b);
        G.dispose();
        G = next;
        const d = fixedPointDistance(G.dataSync(), u, lambda, n, k);
        if (!Number.isFinite(d)) break;
        out.push(d);
      }
      G.dispose();
      return out;
    };
    const unstableSteps = 60;
    const unstable = perturbedRun(UNSTABLE_BETA, unstableSteps);
    const stable = perturbedRun(beta, unstableSteps);
    const growth = Math.max(...unstable) / unstable[0];
    const stableGrowth = Math.max(...stable) / stable[0];
    // the growth factor, fitted between 10 and 1e4 times the start
    const early: number[] = [];
    for (let t = 0; t < unstable.length; t++) {
      const r = unstable[t] / unstable[0];
      if (r >= 10 && r <= 1e4) early.push(t);
    }
    const fittedGrowth =
      early.length >= 3
        ? fitDecayFactor(
            early,
            early.map((t) => unstable[t]),
          )
        : Number.NaN;

    // figures: the subspace distance with the predicted slope, and the
    // distance to the fixed point for β > 1 and β < 1
    const axis = distances.map((_, t) => t);
    const anchor = window.length > 0 ? window[0] : 0;
    const floor = 1e-12;
    // the predicted line from step 0 down to a tenth of the fit range
    const slopeAxis = axis.filter(
      (t) => distances[anchor] * predicted ** (t - anchor) >= FIT_RANGE[0] / 10,
    );
    const convergence = lineChart({
      title: "Distance to the top-k eigenspace",
      subtitle:
        `β = ${beta}, λk = ${lambda[k - 1].toFixed(3)}, λk+1 = ` +
        `${lambda[k].toFixed(3)}; factor ${predicted.toFixed(4)} ` +
        `predicted, ${measured.toFixed(4)} fitted`,
      x: { label: "step", values: axis },
      y: { label: "subspace distance" },
      series: [
        {
          name: "measured",
          values: distances.map((d) => Math.max(d, floor)),
        },
        {
          name: "predicted slope",
          x: slopeAxis,
          values: slopeAxis.map(
            (t) => distances[anchor] * predicted ** (t - anchor),
          ),
          dashed: true,
        },
      ],
      logY: true,
      width: 360,
      height: 240,
      legend: "bottom",
    });
    const growthAxis = unstable.map((_, t) => t);
    // the predicted growth through the first fitted point, up to 10
    const growthAnchor = early.length > 0 ? early[0] : 0;
    const growthLine = growthAxis.filter(
      (t) =>
        unstable[growthAnchor] *
          (2 * UNSTABLE_BETA - 1) ** (t - growthAnchor) <=
        10,
    );
    const divergence = lineChart({
      title: "Leaving the fixed point, β > 1",
      subtitle:
        `from U Λ^1/2 + 1e-6 noise; growth ` +
        `${(2 * UNSTABLE_BETA - 1).toFixed(2)} predicted, ` +
        `${fittedGrowth.toFixed(3)} fitted`,
      x: { label: "step", values: growthAxis },
      y: { label: "‖F Fᵀ − U Λ Uᵀ‖" },
      series: [
        {
          name: `β = ${UNSTABLE_BETA}`,
          values: unstable.map((d) => Math.max(d, floor)),
        },
        {
          name: `β = ${beta}`,
          x: stable.map((_, t) => t),
          values: stable.map((d) => Math.max(d, floor)),
        },
        {
          name: "predicted, 2β − 1",
          x: growthLine,
          values: growthLine.map(
            (t) =>
              unstable[growthAnchor] *
              (2 * UNSTABLE_BETA - 1) ** (t - growthAnchor),
          ),
          dashed: true,
        },
      ],
      logY: true,
      width: 360,
      height: 240,
      legend: "bottom",
    });
    const spec = panels([convergence, divergence], {
      columns: 2,
      title: `Check 5: F ← F + β(ĀF − FFᵀF) (SBM, N = ${n}, k = ${k})`,
    });

    return {
      id: "5",
      claim: equilibriumCheck.claim,
      predicted,
      measured,
      tolerance:
        `escape factor within ${ESCAPE_RATE_TOLERANCE * 100}%; subspace ` +
        `distance < ${SUBSPACE_TOLERANCE}; |σ² − λ| < ` +
        `${EIGENVALUE_TOLERANCE}; β = ${UNSTABLE_BETA} grows > ` +
        `${DIVERGENCE_GROWTH}×`,
      pass:
        error < ESCAPE_RATE_TOLERANCE &&
        finalDistance < SUBSPACE_TOLERANCE &&
        eigenvalueError < EIGENVALUE_TOLERANCE &&
        growth > DIVERGENCE_GROWTH &&
        stableGrowth < 10,
      details: {
        seed,
        nodes: n,
        k,
        beta,
        steps,
        lambdaK: formatNumber(lambda[k - 1]),
        lambdaK1: formatNumber(lambda[k]),
        escapeRelativeError: formatNumber(error),
        fitWindow:
          window.length > 0 ? `steps ${anchor}–${window.at(-1)}` : "none",
        finalSubspaceDistance: formatNumber(finalDistance),
        maxEigenvalueError: formatNumber(eigenvalueError),
        unstableBeta: UNSTABLE_BETA,
        unstableGrowth: formatNumber(growth),
        unstableGrowthFactorPredicted: formatNumber(2 * UNSTABLE_BETA - 1),
        unstableGrowthFactorFitted: formatNumber(fittedGrowth),
        stableGrowth: formatNumber(stableGrowth),
      },
      figures: [{ name: "05-equilibrium", spec }],
    };
  },
};
