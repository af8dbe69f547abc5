/**
 * A simulator of feature-space dynamics: iterate an update rule F ↦ F'
 * (a contrastive step, a GNN layer, anything) from F0 and record, at
 * chosen steps, the quantities the theory of Wang et al. (2023), "A
 * Message Passing Perspective on Learning Dynamics of Contrastive
 * Learning", makes predictions about: the loss, the distance of span(F)
 * to the top-k eigenspace of the normalized augmentation graph Ā, the
 * singular values and effective rank of F (dimensional collapse), the
 * Dirichlet energy of F on the graph (oversmoothing) and the SimSiam
 * collapse monitor.
 */

import { tf } from "../backend.js";
import { ConfigError, NumericalError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { normalizedFeatureStd } from "../spectral/collapse.js";
import { type EigshResult, eigsh } from "../spectral/eigsh.js";
import { dirichletEnergy } from "../spectral/energy.js";
import type { DenseMatrix } from "../spectral/matrix.js";
import { normalizedAdjacencyOperator } from "../spectral/operators.js";
import { effectiveRankOfValues, singularValues } from "../spectral/rank.js";
import { subspaceDistance } from "../spectral/subspace.js";

/** An update rule: the features after one step. */
export type UpdateRule = (F: tf.Tensor2D) => tf.Tensor2D;

/** What {@link simulate} measures besides the spectrum of F. */
export interface SimulationMetrics {
  /**
   * The augmentation graph A (symmetric). When given, the trajectory has
   * the subspace distance of F to the top-k eigenspace of Ā and the
   * Dirichlet energy of F on A; default none (both null).
   */
  augmentationGraph?: Graph;
  /** k of the top-k eigenspace, default the column count of F0. */
  k?: number;
  /**
   * A loss of the features, recorded when given (default none): a scalar
   * tensor (disposed by the simulator) or a number.
   */
  loss?: (F: tf.Tensor2D) => tf.Scalar | number;
}

/** What {@link SimulateOptions.onRecord} receives after each record. */
export interface SimulationProgress {
  /** The step just recorded (0 = F0). */
  readonly step: number;
  /** The total number of steps. */
  readonly steps: number;
}

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Number of steps to run, an integer >= 0 (required). */
  steps: number;
  /**
   * Which steps to record: a list of step numbers in [0, steps] (any
   * order, duplicates ignored), or a number n to record every n-th step
   * (0, n, 2n, …) and always the last one. Default 1 (every step). Step
   * 0 is F0, step t the features after t applications of the rule.
   */
  record?: readonly number[] | number;
  /** Loss, augmentation graph and k; see {@link SimulationMetrics}. */
  metrics?: SimulationMetrics;
  /** Called after every record (default none), e.g. for a progress bar. */
  onRecord?: (progress: SimulationProgress) => void;
}

/** The recorded quantities, one entry per recorded step. */
export interface TrajectoryRecords {
  /** The recorded steps, ascending. */
  readonly steps: Int32Array;
  /** The loss at each record, or null when no loss was given. */
  readonly loss: Float64Array | null;
  /**
   * `subspaceDistance(F, U_k)` (see `spectral/subspace.ts`: the projector
   * distance ‖P_F − P_U‖_F/√2) to the top-k eigenspace of Ā, or null
   * without a graph. NaN at a record where F is rank-deficient (its span
   * has no k dimensions), e.g. after collapse. When k differs from the
   * column count k_F of F the distance includes `√(|k − k_F| / 2)`.
   */
  readonly subspaceDistance: Float64Array | null;
  /** Singular values of F, descending, `records × m` row-major. */
  readonly singularValues: Float64Array;
  /** m = min(N, k_F): singular values per record. */
  readonly numSingularValues: number;
  /** Effective rank (Roy & Vetterli) of F at each record. */
  readonly effectiveRank: Float64Array;
  /**
   * The degree-normalized Dirichlet energy (`dirichletEnergy` with its
   * defaults) of F on A, or null without a graph.
   */
  readonly dirichletEnergy: Float64Array | null;
  /**
   * The collapse monitor `normalizedFeatureStd(F).std`: 0 for complete
   * collapse, about 1/√k_F for features spread over the sphere.
   */
  readonly collapse: Float64Array;
  /** The top-k eigenvalues of Ā, descending, or null without a graph. */
  readonly eigenvalues: Float64Array | null;
}

/** What {@link simulate} returns. */
export interface Trajectory extends TrajectoryRecords {
  /** F after the last step, owned by the caller (dispose it). */
  readonly final: tf.Tensor2D;
}

/**
 * The rule produced NaN or ±Inf. `step` is the step whose result was not
 * finite; `lastGood` holds the features after step `step − 1` (a tensor
 * owned by whoever catches the error), `trajectory` what was recorded
 * before.
 */
export class SimulationError extends NumericalError {
  /** The step (1-based) whose output was not finite. */
  readonly step: number;
  /** The last finite features, those after step `step − 1`. */
  readonly lastGood: tf.Tensor2D;
  /** The records taken before the failure. */
  readonly trajectory: TrajectoryRecords;

  constructor(
    message: string,
    step: number,
    lastGood: tf.Tensor2D,
    trajectory: TrajectoryRecords,
  ) {
    super(message);
    this.step = step;
    this.lastGood = lastGood;
    this.trajectory = trajectory;
  }
}

const eigenspaces = new WeakMap<Graph, Map<number, EigshResult>>();

/**
 * The top-k eigenpairs of Ā for a graph, computed by `eigsh` (its
 * defaults: dense below 200 nodes, else Lanczos with tolerance 1e-8) once
 * per (graph, k) and cached while the graph lives.
 *
 * @param augmentationGraph A, symmetric.
 * @param k the number of eigenpairs, in [1, N].
 * @returns the `EigshResult` (values descending, vectors N × k).
 */
export function topEigenspace(
  augmentationGraph: Graph,
  k: number,
): EigshResult {
  let byK = eigenspaces.get(augmentationGraph);
  if (byK === undefined) {
    byK = new Map();
    eigenspaces.set(augmentationGraph, byK);
  }
  let result = byK.get(k);
  if (result === undefined) {
    result = eigsh(normalizedAdjacencyOperator(augmentationGraph), k, {
      which: "LA",
    });
    byK.set(k, result);
  }
  return result;
}

/** The sorted, checked list of steps to record. */
function recordedSteps(fn: string, steps: number, record: unknown): number[] {
  if (typeof record === "number") {
    if (!Number.isInteger(record) || record < 1) {
      throw new ConfigError(
        `${fn}: record must be an integer >= 1 or a list of steps, got ` +
          `${record}`,
      );
    }
    const out: number[] = [];
    for (let t = 0; t <= steps; t += record) out.push(t);
    if (out[out.length - 1] !== steps) out.push(steps);
    return out;
  }
  if (!Array.isArray(record)) {
    throw new ConfigError(
      `${fn}: record must be a number or a list of steps, got ` +
        `${typeof record}`,
    );
  }
  for (const t of record) {
    if (!Number.isInteger(t) || t < 0 || t > steps) {
      throw new ConfigError(
        `${fn}: recorded steps must be integers in [0, ${steps}], got ${t}`,
      );
    }
  }
  return [...new Set(record as number[])].sort((a, b) => a - b);
}

/** Growable columns of the records. */
class Recorder {
  readonly steps: number[] = [];
  readonly loss: number[] = [];
  readonly distance: number[] = [];
  readonly sigma: number[] = [];
  readonly rank: number[] = [];
  readonly energy: number[] = [];
  readonly collapse: number[] = [];

  constructor(
    readonly m: number,
    readonly hasLoss: boolean,
    readonly eigen: EigshResult | null,
  ) {}

  /** The typed-array view of everything recorded so far. */
  records(): TrajectoryRecords {
    const withGraph = this.eigen !== null;
    return {
      steps: Int32Array.from(this.steps),
      loss: this.hasLoss ? Float64Array.from(this.loss) : null,
      subspaceDistance: withGraph ? Float64Array.from(this.distance) : null,
      singularValues: Float64Array.from(this.sigma),
      numSingularValues: this.m,
      effectiveRank: Float64Array.from(this.rank),
      dirichletEnergy: withGraph ? Float64Array.from(this.energy) : null,
      collapse: Float64Array.from(this.collapse),
      eigenvalues: withGraph ? (this.eigen as EigshResult).values : null,
    };
  }
}

/** Whether every entry of a tensor is finite. */
function allFinite(t: tf.Tensor): boolean {
  return tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1);
}

/**
 * Iterate `F_{t+1} = rule(F_t)` for `steps` steps from F0 and record the
 * trajectory (see {@link TrajectoryRecords}) at the chosen steps.
 *
 * Every result is checked for NaN/±Inf before the next step; a non-finite
 * one raises {@link SimulationError}, which keeps the last finite F. The
 * rule runs inside `tf.tidy`, and each F_t is disposed once F_{t+1}
 * exists, so the rule may allocate freely; F0 stays the caller's.
 *
 * @param rule the update, `[N, k] → [N, k]` (float32); it must not
 *   dispose its argument.
 * @param F0 the initial features, float32 `[N, k]`.
 * @param options `steps` (required), `record` (default every step),
 *   `metrics` (graph, k, loss), `onRecord`.
 * @returns the typed-array trajectory and the final features.
 * @throws ConfigError for bad options (k outside [1, N], steps not an
 *   integer >= 0); ShapeError for F0 or a rule output not `[N, k]`
 *   float32, or a graph without N nodes; SimulationError (a
 *   NumericalError) on NaN/Inf.
 */
export function simulate(
  rule: UpdateRule,
  F0: tf.Tensor2D,
  options: SimulateOptions,
): Trajectory {
  const fn = "simulate";
  if (typeof rule !== "function") {
    throw new ConfigError(`${fn}: rule must be a function, got ${typeof rule}`);
  }
  if (!(F0 instanceof tf.Tensor) || F0.rank !== 2 || F0.dtype !== "float32") {
    throw new ShapeError(
      `${fn}: F0 must be a float32 tensor [N, k], got ` +
        (F0 instanceof tf.Tensor ? `${F0.dtype} [${F0.shape}]` : typeof F0),
    );
  }
  const steps = options?.steps;
  if (!Number.isInteger(steps) || steps < 0) {
    throw new ConfigError(`${fn}: steps must be an integer >= 0, got ${steps}`);
  }
  const record = recordedSteps(fn, steps, options.record ?? 1);
  const [n, cols] = F0.shape;
  const metrics = options.metrics ?? {};
  const graph = metrics.augmentationGraph ?? null;
  const k = metrics.k ?? cols;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new ConfigError(`${fn}: k must be an integer in [1, ${n}], got ${k}`);
  }
  if (graph !== null && graph.numNodes !== n) {
    throw new ShapeError(
      `${fn}: the augmentation graph must have N = ${n} nodes (the rows ` +
        `of F0), got ${graph.numNodes}`,
    );
  }
  if (!allFinite(F0)) {
    throw new NumericalError(`${fn}: F0 must be finite, got NaN or Inf`);
  }

  // the eigenspace, once per (graph, k)
  const eigen = graph === null ? null : topEigenspace(graph, k);
  const basis: DenseMatrix | null =
    eigen === null ? null : { data: eigen.vectors, rows: n, cols: k };
  const recorder = new Recorder(
    Math.min(n, cols),
    metrics.loss !== undefined,
    eigen,
  );

  const measure = (F: tf.Tensor2D, step: number): void => {
    const x: DenseMatrix = {
      data: F.dataSync() as Float32Array,
      rows: n,
      cols,
    };
    recorder.steps.push(step);
    if (metrics.loss !== undefined) {
      const loss = metrics.loss;
      const value = tf.tidy(() => {
        const v = loss(F);
        return typeof v === "number" ? v : v.dataSync()[0];
      });
      recorder.loss.push(value);
    }
    const sigma = singularValues(x, { method: "qr" });
    for (const s of sigma) recorder.sigma.push(s);
    recorder.rank.push(effectiveRankOfValues(sigma));
    recorder.collapse.push(normalizedFeatureStd(x).std);
    if (graph !== null && basis !== null) {
      let distance = Number.NaN;
      try {
        distance = subspaceDistance(x, basis);
      } catch (error) {
        // a rank-deficient F spans no k-dimensional subspace
        if (!(error instanceof NumericalError)) throw error;
      }
      recorder.distance.push(distance);
      recorder.energy.push(dirichletEnergy(graph, x));
    }
    options.onRecord?.({ step, steps });
  };

  // step 0, then the iteration
  let next = 0;
  if (record[0] === 0) {
    measure(F0, 0);
    next = 1;
  }
  let F = F0;
  for (let t = 1; t <= steps; t++) {
    const current = F;
    const out = tf.tidy(() => rule(current));
    if (
      !(out instanceof tf.Tensor) ||
      out.rank !== 2 ||
      out.shape[0] !== n ||
      out.shape[1] !== cols ||
      out.dtype !== "float32"
    ) {
      throw new ShapeError(
        `${fn}: the rule must return a float32 tensor [${n}, ${cols}], got ` +
          (out instanceof tf.Tensor
            ? `${out.dtype} [${out.shape}]`
            : typeof out) +
          ` at step ${t}`,
      );
    }
    if (!allFinite(out)) {
      if (out !== current) out.dispose();
      const lastGood = current === F0 ? F0.clone() : current;
      throw new SimulationError(
        `${fn}: the rule produced NaN or Inf at step ${t}; the error keeps ` +
          `the features of step ${t - 1} in lastGood`,
        t,
        lastGood,
        recorder.records(),
      );
    }
    if (current !== F0 && current !== out) current.dispose();
    F = out;
    if (next < record.length && record[next] === t) {
      measure(F, t);
      next++;
    }
  }
  const final = F === F0 ? F0.clone() : F;
  return { ...recorder.records(), final };
}
