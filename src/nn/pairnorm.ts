/**
 * PairNorm: a normalization layer against oversmoothing that keeps the
 * total pairwise squared distance of the node representations constant
 * (Zhao & Akoglu 2020, "PairNorm: Tackling Oversmoothing in GNNs"), in
 * the three variants of the authors' code: PN, PN-SI and PN-SCS.
 *
 * On the contrastive side it is the crude cousin of the uniformity update:
 * it removes the common component of all nodes at once instead of pushing
 * each node away from the others by their similarity (see ContraNorm).
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { ForwardContext, Layer, Parameter } from "./module.js";

/** The variants of {@link PairNorm}. */
export type PairNormMode = "PN" | "PN-SI" | "PN-SCS";

/** Arguments of {@link PairNorm}. */
export interface PairNormArgs {
  /**
   * `PN` (default): center, then rescale by the root mean squared row
   * norm; `PN-SI`: center, then rescale every row to norm s; `PN-SCS`:
   * rescale every row to norm s, then subtract the input's column mean.
   */
  mode?: PairNormMode;
  /** The scale s > 0 (default 1, the authors' default). */
  scale?: number;
  /** Layer name for errors and summaries; default `"PairNorm(<mode>)"`. */
  name?: string;
}

/**
 * The constant inside the square roots of the authors' code, which keeps
 * the scale finite (and differentiable) for a zero row or input.
 */
const EPS = 1e-6;

/**
 * PairNorm over all N rows of `x` (`[N, d]` in, `[N, d]` out). With
 * `μ = (1/N) Σ_i x_i` the column mean and `x_i^c = x_i − μ`:
 *
 *     PN:      x_i' = s · x_i^c / sqrt(ε + (1/N) Σ_j ‖x_j^c‖²)
 *     PN-SI:   x_i' = s · x_i^c / sqrt(ε + ‖x_i^c‖²)
 *     PN-SCS:  x_i' = s · x_i / sqrt(ε + ‖x_i‖²) − μ
 *
 * with ε = 1e-6 as in the authors' code (the paper writes the equations
 * without it). PN makes `(1/N) Σ_i ‖x_i'‖² = s²`, so the total pairwise
 * squared distance `Σ_{i,j} ‖x_i' − x_j'‖² = 2 N² s²` stays constant
 * across layers.
 *
 * Uses no graph and has no parameters: `context` is ignored, and the
 * layer behaves the same in training and inference.
 *
 * LIMITATION: the statistics are those of the rows given (the whole
 * graph in full-batch training); there is no running mean for
 * mini-batches.
 */
export class PairNorm implements Layer {
  readonly name: string;
  /** The variant. */
  readonly mode: PairNormMode;
  /** The scale s. */
  readonly scale: number;

  /** Raises `ConfigError` for an unknown mode or a scale not > 0. */
  constructor(args: PairNormArgs = {}) {
    const mode = args.mode ?? "PN";
    if (mode !== "PN" && mode !== "PN-SI" && mode !== "PN-SCS") {
      throw new ConfigError(
        "PairNorm: mode must be 'PN', 'PN-SI' or 'PN-SCS', got " +
          `'${String(mode)}'`,
      );
    }
    const scale = args.scale ?? 1;
    if (!Number.isFinite(scale) || scale <= 0) {
      throw new ConfigError(
        `PairNorm: scale must be a finite number > 0, got ${scale}`,
      );
    }
    this.mode = mode;
    this.scale = scale;
    this.name = args.name ?? `PairNorm(${mode})`;
  }

  /**
   * Normalizes `x` (float32 `[N, d]`, N ≥ 1); `context` is not used.
   * Raises `ShapeError` for anything else.
   */
  apply(x: tf.Tensor2D, _context?: ForwardContext): tf.Tensor2D {
    if (
      !(x instanceof tf.Tensor) ||
      x.rank !== 2 ||
      x.dtype !== "float32" ||
      x.shape[0] === 0
    ) {
      throw new ShapeError(
        `${this.name}.apply: x must be a float32 matrix [N, d] with N >= 1, ` +
          `got ${x instanceof tf.Tensor ? `${x.dtype} [${x.shape}]` : typeof x}`,
      );
    }
    return tf.tidy(() => {
      const mean = tf.mean(x, 0, true);
      const rowNorms = (t: tf.Tensor) =>
        tf.sqrt(tf.add(tf.sum(tf.square(t), 1, true), EPS));
      if (this.mode === "PN-SCS") {
        return tf.sub(tf.mul(tf.div(x, rowNorms(x)), this.scale), mean);
      }
      const centered = tf.sub(x, mean);
      if (this.mode === "PN-SI") {
        return tf.mul(tf.div(centered, rowNorms(centered)), this.scale);
      }
      const meanSquare = tf.mean(tf.sum(tf.square(centered), 1));
      const norm = tf.sqrt(tf.add(meanSquare, EPS));
      return tf.mul(tf.div(centered, norm), this.scale);
    }) as tf.Tensor2D;
  }

  /** No parameters. */
  parameters(): Parameter[] {
    return [];
  }

  /** Nothing to free. */
  dispose(): void {}
}
