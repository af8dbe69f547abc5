/**
 * ContraNorm: a normalization layer that takes one gradient step of the
 * uniformity term of a contrastive loss, pushing every representation
 * away from those it resembles (Guo, Wang, Wang, Zhang & Wang 2023,
 * "ContraNorm: A Contrastive Learning Perspective on Oversmoothing and
 * Beyond", ICLR), following the authors' code.
 *
 * The repulsion `softmax(X_n X_nᵀ / τ) X` is one `propagate` over the
 * softmax affinity graph of `mp/affinity.ts`: the same call that computes
 * the uniformity update of InfoNCE in contrastive training, here used as
 * a layer of a GNN.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { affinityGraph } from "../mp/affinity.js";
import { propagate } from "../mp/propagate.js";
import { createVariable } from "./init.js";
import type { ForwardContext, Layer, Parameter } from "./module.js";

/** Arguments of {@link ContraNorm}. */
export interface ContraNormArgs {
  /**
   * The step size s ≥ 0 of the uniformity update; default 0.1, the
   * default of the authors' code (the paper tunes it per task; 0 makes
   * the update vanish, leaving only the optional LayerNorm).
   */
  scale?: number;
  /** The softmax temperature τ > 0; default 1. */
  temperature?: number;
  /**
   * Whether the similarities are computed between l2-normalized rows
   * (default true, as in the authors' code): `X_n = X / ‖X‖_row`. When
   * false, the raw features X are used.
   */
  normalizeFeatures?: boolean;
  /**
   * Whether a LayerNorm (per-row standardisation with ε = 1e-6, then a
   * learnable per-channel gain initialised to 1 and offset initialised
   * to 0) follows the update; default false. The authors' module always
   * applies it; `layerNorm: true` reproduces that. Needs `dim`.
   */
  layerNorm?: boolean;
  /**
   * Whether the step size is a learnable per-channel vector `[dim]`,
   * initialised to `scale` (default false: the constant `scale`). Needs
   * `dim`.
   */
  learnable?: boolean;
  /**
   * Width d of the features; required with `layerNorm` or `learnable`,
   * and checked against the input when given. Default none.
   */
  dim?: number;
  /**
   * Rows per block of the affinity graph (default: its automatic choice,
   * see `AffinityOptions.blockSize`); results do not depend on it.
   */
  blockSize?: number;
  /** Layer name for errors and summaries; default `"ContraNorm"`. */
  name?: string;
}

/** The ε of the LayerNorm, as in the authors' code. */
const LAYER_NORM_EPS = 1e-6;

/**
 * The smallest squared row norm that normalization divides by: rows
 * shorter than 1e-12 are divided by 1e-12, as in PyTorch's `normalize`.
 */
const MIN_SQUARED_NORM = 1e-24;

/**
 * ContraNorm over all N rows of `x` (`[N, d]` in, `[N, d]` out):
 *
 *     X_n = X / ‖X‖_row              (or X, without normalizeFeatures)
 *     X'  = X − s · softmax_row(X_n X_nᵀ / τ) X
 *     X'' = LayerNorm(X')             (with layerNorm)
 *
 * The product `softmax(X_n X_nᵀ / τ) X` is `propagate(affinityGraph(X_n,
 * {kind: "softmax", temperature: τ}), X)`: the uniformity update of
 * InfoNCE, whose affinity graph joins every pair of nodes with weight
 * `softmax_j(x_i · x_j / τ)`. Subtracting it moves each node away from
 * the nodes it is most similar to, which counteracts the collapse of
 * representations that repeated message passing causes (oversmoothing).
 * It is computed in row blocks (never an N × N tensor), and its gradient
 * reaches X both through the values and through the weights.
 *
 * Uses no graph edges: `context` is ignored, and the layer behaves the
 * same in training and inference. Parameters: `scale` `[d]` (with
 * `learnable`), `layerNorm.weight` `[d]` and `layerNorm.bias` `[d]`
 * (with `layerNorm`).
 *
 * LIMITATION: the options `dual_norm` (adding the column softmax),
 * `pre_norm`, `identity` and `positive` of the authors' code are not
 * available; only the update above is.
 */
export class ContraNorm implements Layer {
  readonly name: string;
  /** The step size s (the initial value when learnable). */
  readonly scale: number;
  /** The temperature τ. */
  readonly temperature: number;
  /** Whether similarities use l2-normalized rows. */
  readonly normalizeFeatures: boolean;
  /** The feature width d, or null when not given. */
  readonly dim: number | null;
  readonly #blockSize: number | undefined;
  readonly #scale: tf.Variable<tf.Rank.R1> | null;
  readonly #gain: tf.Variable<tf.Rank.R1> | null;
  readonly #offset: tf.Variable<tf.Rank.R1> | null;

  /**
   * Raises `ConfigError` for a scale that is not finite and ≥ 0, a
   * temperature that is not finite and > 0, a `dim` or `blockSize` that
   * is not a positive integer, and `layerNorm` or `learnable` without
   * `dim`.
   */
  constructor(args: ContraNormArgs = {}) {
    const fn = "ContraNorm";
    this.scale = args.scale ?? 0.1;
    if (!Number.isFinite(this.scale) || this.scale < 0) {
      throw new ConfigError(
        `${fn}: scale must be a finite number >= 0, got ${this.scale}`,
      );
    }
    this.temperature = args.temperature ?? 1;
    if (!Number.isFinite(this.temperature) || this.temperature <= 0) {
      throw new ConfigError(
        `${fn}: temperature must be a finite number > 0, got ` +
          `${this.temperature}`,
      );
    }
    const dim = args.dim;
    if (dim !== undefined && !(Number.isInteger(dim) && dim >= 1)) {
      throw new ConfigError(`${fn}: dim must be an integer >= 1, got ${dim}`);
    }
    const blockSize = args.blockSize;
    if (
      blockSize !== undefined &&
      !(Number.isInteger(blockSize) && blockSize >= 1)
    ) {
      throw new ConfigError(
        `${fn}: blockSize must be an integer >= 1, got ${blockSize}`,
      );
    }
    const learnable = args.learnable ?? false;
    const layerNorm = args.layerNorm ?? false;
    if ((learnable || layerNorm) && dim === undefined) {
      throw new ConfigError(
        `${fn}: ${learnable ? "learnable" : "layerNorm"} needs dim (the ` +
          "feature width), got none",
      );
    }
    this.dim = dim ?? null;
    this.normalizeFeatures = args.normalizeFeatures ?? true;
    this.#blockSize = blockSize;
    this.name = args.name ?? fn;
    const d = dim as number;
    const vector = (value: number) =>
      createVariable(new Float32Array(d).fill(value), [
        d,
      ]) as tf.Variable<tf.Rank.R1>;
    this.#scale = learnable ? vector(this.scale) : null;
    this.#gain = layerNorm ? vector(1) : null;
    this.#offset = layerNorm ? vector(0) : null;
  }

  /**
   * Applies the update to `x` (float32 `[N, d]`, N ≥ 1); `context` is
   * not used. Raises `ShapeError` for anything else, or for a width
   * other than `dim`.
   */
  apply(x: tf.Tensor2D, _context?: ForwardContext): tf.Tensor2D {
    if (
      !(x instanceof tf.Tensor) ||
      x.rank !== 2 ||
      x.dtype !== "float32" ||
      x.shape[0] === 0 ||
      (this.dim !== null && x.shape[1] !== this.dim)
    ) {
      const want = this.dim === null ? "d" : `${this.dim}`;
      throw new ShapeError(
        `${this.name}.apply: x must be a float32 matrix [N, ${want}] with ` +
          `N >= 1, got ` +
          (x instanceof tf.Tensor ? `${x.dtype} [${x.shape}]` : typeof x),
      );
    }
    return tf.tidy(() => {
      let out: tf.Tensor2D = x;

      // the uniformity step X − s · softmax(X_n X_nᵀ / τ) X
      if (this.scale > 0 || this.#scale !== null) {
        const features = this.normalizeFeatures ? normalizeRows(x) : x;
        const affinity = affinityGraph(features, {
          kind: "softmax",
          temperature: this.temperature,
          blockSize: this.#blockSize,
        });
        const repulsion = propagate(affinity, x);
        const step = this.#scale ?? this.scale;
        out = tf.sub(x, tf.mul(repulsion, step));
      }

      if (this.#gain !== null && this.#offset !== null) {
        const { mean, variance } = tf.moments(out, 1, true);
        const standard = tf.div(
          tf.sub(out, mean),
          tf.sqrt(tf.add(variance, LAYER_NORM_EPS)),
        );
        out = tf.add(tf.mul(standard, this.#gain), this.#offset);
      }
      return out === x ? tf.clone(x) : out;
    });
  }

  /** Trainable variables: `scale`, `layerNorm.weight`, `layerNorm.bias`. */
  parameters(): Parameter[] {
    const out: Parameter[] = [];
    if (this.#scale !== null)
      out.push({ name: "scale", variable: this.#scale });
    if (this.#gain !== null && this.#offset !== null) {
      out.push(
        { name: "layerNorm.weight", variable: this.#gain, decay: false },
        { name: "layerNorm.bias", variable: this.#offset, decay: false },
      );
    }
    return out;
  }

  /** Frees the variables. */
  dispose(): void {
    for (const p of this.parameters()) p.variable.dispose();
  }
}

/**
 * `x / max(‖x_i‖, 1e-12)` row by row. The clamp is applied to the squared
 * norm so that the gradient of a zero row stays finite.
 */
function normalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  const squared = tf.sum(tf.square(x), 1, true);
  return tf.div(x, tf.sqrt(tf.maximum(squared, MIN_SQUARED_NORM)));
}
