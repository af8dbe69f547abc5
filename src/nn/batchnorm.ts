/**
 * Batch normalization over the rows of a feature matrix (Ioffe & Szegedy
 * 2015, "Batch Normalization: Accelerating Deep Network Training by
 * Reducing Internal Covariate Shift"), as PyTorch's `BatchNorm1d`: the
 * layer of the projectors and predictors of SimCLR, SimSiam and BYOL, and
 * of MLP encoders.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { denseFeatures, type NodeFeatures } from "../mp/linear.js";
import { checkDim, checkFlag, checkLayerInput } from "./linear.js";
import type { ForwardContext, Layer, Parameter } from "./module.js";

/** Arguments of {@link BatchNorm1d}. */
export interface BatchNormArgs {
  /** Number of features (columns) d. */
  units: number;
  /**
   * Weight of the current batch in the running statistics, in [0, 1];
   * default 0.1 (PyTorch's convention: `running ← (1 − momentum) running
   * + momentum · batch`).
   */
  momentum?: number;
  /** ε > 0 added to the variance; default 1e-5. */
  epsilon?: number;
  /**
   * Learnable scale γ and shift β (default true). false gives
   * PyTorch's `affine=False`, as at the end of SimSiam's projector.
   */
  affine?: boolean;
  /** Name in errors and summaries; default `BatchNorm1d(d)`. */
  name?: string;
}

/**
 * Batch normalization of each column:
 *
 *     y = γ ⊙ (x − μ) / √(σ² + ε) + β
 *
 * In training mode μ and σ² are the batch's column mean and biased
 * variance, and the running statistics move towards the batch's mean and
 * unbiased variance by `momentum`; in inference mode μ and σ² are the
 * running statistics (initially 0 and 1). Input `[N, d]` (sparse input is
 * made dense), output `[N, d]`; the context's graph is not used.
 * Parameters: `weight` (γ, ones) and `bias` (β, zeros) when affine, both
 * excluded from weight decay. Running statistics: {@link
 * BatchNorm1d.buffers}.
 *
 * NOTE: the running statistics are updated by every training-mode
 * forward pass, also inside a gradient computation.
 */
export class BatchNorm1d implements Layer {
  readonly name: string;
  readonly units: number;
  readonly momentum: number;
  readonly epsilon: number;
  /** γ `[d]`, or null without affine parameters. */
  readonly weight: tf.Variable | null;
  /** β `[d]`, or null without affine parameters. */
  readonly bias: tf.Variable | null;
  /** Running mean `[d]` (not trainable). */
  readonly runningMean: tf.Variable;
  /** Running (unbiased) variance `[d]` (not trainable). */
  readonly runningVar: tf.Variable;

  constructor(args: BatchNormArgs) {
    const cls = "BatchNorm1d";
    this.units = checkDim(cls, "units", args.units);
    this.momentum = args.momentum ?? 0.1;
    if (!(this.momentum >= 0 && this.momentum <= 1)) {
      throw new ConfigError(
        `${cls}: momentum must lie in [0, 1], got ${String(args.momentum)}`,
      );
    }
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(this.epsilon > 0 && Number.isFinite(this.epsilon))) {
      throw new ConfigError(
        `${cls}: epsilon must be a finite number > 0, got ` +
          `${String(args.epsilon)}`,
      );
    }
    const affine = checkFlag(cls, "affine", args.affine, true);
    this.name = args.name ?? `BatchNorm1d(${this.units})`;
    const d = this.units;
    this.weight = affine ? tf.variable(tf.ones([d]), true) : null;
    this.bias = affine ? tf.variable(tf.zeros([d]), true) : null;
    this.runningMean = tf.variable(tf.zeros([d]), false);
    this.runningVar = tf.variable(tf.ones([d]), false);
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    checkLayerInput(this.name, x, this.units);
    const n = x instanceof tf.Tensor ? x.shape[0] : x.rows;
    if (context.training && n < 2) {
      throw new ShapeError(
        `${this.name}: training mode needs at least 2 rows to estimate ` +
          `a variance, got ${n}`,
      );
    }
    return tf.tidy(() => {
      const dense = denseFeatures(x);
      let normalized: tf.Tensor2D;
      if (context.training) {
        // batch statistics (biased variance), then the running update
        // with the unbiased variance
        const { mean, variance } = tf.moments(dense, 0);
        normalized = tf.div(
          tf.sub(dense, mean),
          tf.sqrt(tf.add(variance, this.epsilon)),
        );
        this.#updateRunning(mean, variance, n);
      } else {
        normalized = tf.div(
          tf.sub(dense, this.runningMean),
          tf.sqrt(tf.add(this.runningVar, this.epsilon)),
        );
      }
      if (this.weight === null || this.bias === null) return normalized;
      return tf.add(tf.mul(normalized, this.weight), this.bias);
    });
  }

  /** running ← (1 − momentum) running + momentum · batch. */
  #updateRunning(mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    const m = this.momentum;
    tf.tidy(() => {
      const unbiased = tf.mul(variance, n / (n - 1));
      this.runningMean.assign(
        tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)),
      );
      this.runningVar.assign(
        tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)),
      );
    });
  }

  parameters(): Parameter[] {
    if (this.weight === null || this.bias === null) return [];
    return [
      { name: "weight", variable: this.weight, decay: false },
      { name: "bias", variable: this.bias, decay: false },
    ];
  }

  /**
   * The running statistics, for checkpoints: `running_mean` and
   * `running_var` (not trainable, not in {@link BatchNorm1d.parameters}).
   */
  buffers(): Array<{ name: string; variable: tf.Variable }> {
    return [
      { name: "running_mean", variable: this.runningMean },
      { name: "running_var", variable: this.runningVar },
    ];
  }

  dispose(): void {
    this.weight?.dispose();
    this.bias?.dispose();
    this.runningMean.dispose();
    this.runningVar.dispose();
  }
}
