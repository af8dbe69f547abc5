/**
 * Jumping knowledge: a readout over the outputs of every layer of a GNN,
 * so that each node picks its own effective neighbourhood range (Xu et
 * al. 2018, "Representation Learning on Graphs with Jumping Knowledge
 * Networks"). Concatenation, element-wise max, and a learned per-node
 * attention over layers.
 *
 * On the contrastive side the same readout combines the features of
 * several alignment stages.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { type RandomOptions, resolveRandom } from "../random.js";
import { createVariable, uniform } from "./init.js";
import type { Parameter } from "./module.js";

/** How {@link JumpingKnowledge} combines the layers' outputs. */
export type JumpingKnowledgeMode = "cat" | "max" | "attention";

/** Arguments of {@link JumpingKnowledge}. */
export interface JumpingKnowledgeArgs extends RandomOptions {
  /**
   * `cat` concatenates the layers' outputs, `max` takes their element-wise
   * maximum, `attention` their per-node softmax-weighted sum (see
   * {@link JumpingKnowledge}). Required.
   */
  mode: JumpingKnowledgeMode;
  /**
   * Width C of every layer's output: required for `attention` (the size
   * of its scoring vector), checked against the inputs when given for the
   * other modes; default none.
   */
  channels?: number;
  /**
   * Number of layer outputs L that {@link JumpingKnowledge.combine}
   * expects; default none (any number ≥ 1).
   */
  numLayers?: number;
}

/** Check an optional positive integer argument. */
function optionalCount(name: string, v: number | undefined): number | null {
  if (v === undefined) return null;
  if (!Number.isInteger(v) || v < 1) {
    throw new ConfigError(
      `JumpingKnowledge: ${name} must be an integer >= 1, got ${v}`,
    );
  }
  return v;
}

/**
 * Jumping-knowledge readout over L layer outputs `h_1 … h_L`, each
 * `[N, C_l]`:
 *
 *     cat:        h_i = h_1(i) ‖ h_2(i) ‖ … ‖ h_L(i)          [N, Σ C_l]
 *     max:        h_i = max_l h_l(i), element-wise             [N, C]
 *     attention:  s_l(i) = h_l(i) · a,
 *                 α_l(i) = softmax_l s_l(i),
 *                 h_i = Σ_l α_l(i) h_l(i)                      [N, C]
 *
 * `max` and `attention` need all widths equal. In `max` the gradient of
 * a tie goes to the earliest layer. The scoring vector `a` (`[C]`,
 * parameter `att`) is drawn Glorot uniform as a `[C, 1]` matrix,
 * U(±sqrt(6 / (C + 1))), from `seed`/`random`.
 *
 * LIMITATION: Xu et al. (and PyTorch Geometric's `JumpingKnowledge`)
 * score the layers with a bi-directional LSTM run over the sequence
 * h_1(i) … h_L(i); `attention` here scores each layer with one shared
 * learnable vector instead, so a layer's score does not depend on the
 * other layers' outputs.
 */
export class JumpingKnowledge {
  /** A short name for errors and summaries, e.g. `"JK(max)"`. */
  readonly name: string;
  /** The combination rule. */
  readonly mode: JumpingKnowledgeMode;
  /** Width of every input (required for attention), or null. */
  readonly channels: number | null;
  /** Expected number of inputs, or null for any. */
  readonly numLayers: number | null;
  readonly #att: tf.Variable<tf.Rank.R1> | null;

  /**
   * Raises `ConfigError` for an unknown mode, counts that are not
   * positive integers, or `attention` without `channels`.
   */
  constructor(args: JumpingKnowledgeArgs) {
    const mode = args.mode;
    if (mode !== "cat" && mode !== "max" && mode !== "attention") {
      throw new ConfigError(
        "JumpingKnowledge: mode must be 'cat', 'max' or 'attention', got " +
          `'${String(mode)}'`,
      );
    }
    this.mode = mode;
    this.channels = optionalCount("channels", args.channels);
    this.numLayers = optionalCount("numLayers", args.numLayers);
    this.name = `JK(${mode})`;
    if (mode === "attention") {
      if (this.channels === null) {
        throw new ConfigError(
          "JumpingKnowledge: mode 'attention' needs channels (the width " +
            "of every layer output), got none",
        );
      }
      const c = this.channels;
      const values = uniform(c, Math.sqrt(6 / (c + 1)), resolveRandom(args));
      this.#att = createVariable(values, [c]) as tf.Variable<tf.Rank.R1>;
    } else {
      this.#att = null;
    }
  }

  /**
   * The width of the combined output for inputs of widths `widths`:
   * their sum for `cat`, the common width otherwise. Raises `ShapeError`
   * for an empty list or, outside `cat`, unequal widths.
   */
  outputDim(widths: readonly number[]): number {
    this.#checkWidths(`${this.name}.outputDim`, widths);
    return this.mode === "cat" ? widths.reduce((a, b) => a + b, 0) : widths[0];
  }

  /**
   * Combine the layers' outputs (see the class comment); returns a new
   * tensor the caller owns. Raises `ShapeError` for an empty list, a
   * count other than `numLayers`, inputs that are not float32 matrices
   * with the same row count, or widths that do not fit the mode.
   */
  combine(outputs: readonly tf.Tensor2D[]): tf.Tensor2D {
    this.#checkOutputs(`${this.name}.combine`, outputs);
    if (outputs.length === 1 && this.mode !== "attention") {
      return tf.clone(outputs[0]);
    }
    return tf.tidy(() => {
      if (this.mode === "cat") return tf.concat([...outputs], 1);
      if (this.mode === "max") {
        // NOTE: a chain of pairwise maxima, whose gradient goes to the
        // first argument on ties (tf.max over a stacked axis would give
        // it to every tied layer)
        let out = outputs[0];
        for (let l = 1; l < outputs.length; l++) {
          out = tf.maximum(out, outputs[l]);
        }
        return out;
      }
      const alpha = this.#weights(outputs);
      let out = tf.mul(outputs[0], tf.slice(alpha, [0, 0], [-1, 1]));
      for (let l = 1; l < outputs.length; l++) {
        out = tf.add(out, tf.mul(outputs[l], tf.slice(alpha, [0, l], [-1, 1])));
      }
      return out as tf.Tensor2D;
    });
  }

  /**
   * The attention weights α `[N, L]` over layers (each row sums to 1),
   * for mode `attention` only (a `ConfigError` otherwise); differentiable.
   */
  attention(outputs: readonly tf.Tensor2D[]): tf.Tensor2D {
    if (this.mode !== "attention") {
      throw new ConfigError(
        `${this.name}.attention: only mode 'attention' has weights, got ` +
          `mode '${this.mode}'`,
      );
    }
    this.#checkOutputs(`${this.name}.attention`, outputs);
    return tf.tidy(() => this.#weights(outputs));
  }

  /** Trainable variables: `att` for attention, none otherwise. */
  parameters(): Parameter[] {
    return this.#att === null ? [] : [{ name: "att", variable: this.#att }];
  }

  /** Frees the variables. */
  dispose(): void {
    this.#att?.dispose();
  }

  /** `softmax_l(h_l · a)` as `[N, L]`, inside the caller's tidy. */
  #weights(outputs: readonly tf.Tensor2D[]): tf.Tensor2D {
    // NOTE: h · a as a row sum of h ⊙ a: the gradient of a [N, C] × [C, 1]
    // matMul would need transposed products, slow on the WASM backend
    const a = this.#att as tf.Variable;
    const scores = outputs.map((h) => tf.sum(tf.mul(h, a), 1, true));
    return tf.softmax(tf.concat(scores, 1)) as tf.Tensor2D;
  }

  /** Check a list of widths against the mode and `channels`. */
  #checkWidths(fn: string, widths: readonly number[]): void {
    if (widths.length === 0) {
      throw new ShapeError(`${fn}: expected at least one layer, got none`);
    }
    if (this.numLayers !== null && widths.length !== this.numLayers) {
      throw new ShapeError(
        `${fn}: expected numLayers = ${this.numLayers} layers, got ` +
          `${widths.length}`,
      );
    }
    const want = this.channels ?? (this.mode === "cat" ? null : widths[0]);
    if (want === null) return;
    for (const [l, w] of widths.entries()) {
      if (w !== want) {
        throw new ShapeError(
          `${fn}: every layer must have width ${want} in mode ` +
            `'${this.mode}', got ${w} for layer ${l}`,
        );
      }
    }
  }

  /** Check the layer outputs: matrices, same rows, widths per mode. */
  #checkOutputs(fn: string, outputs: readonly tf.Tensor2D[]): void {
    if (!Array.isArray(outputs) || outputs.length === 0) {
      throw new ShapeError(`${fn}: expected at least one layer, got none`);
    }
    const rows = outputs[0].shape[0];
    for (const [l, h] of outputs.entries()) {
      if (!(h instanceof tf.Tensor) || h.rank !== 2 || h.dtype !== "float32") {
        throw new ShapeError(
          `${fn}: layer ${l} must be a float32 matrix [N, C], got ` +
            (h instanceof tf.Tensor ? `${h.dtype} [${h.shape}]` : typeof h),
        );
      }
      if (h.shape[0] !== rows) {
        throw new ShapeError(
          `${fn}: every layer must have N = ${rows} rows, got ` +
            `[${h.shape}] for layer ${l}`,
        );
      }
    }
    this.#checkWidths(
      fn,
      outputs.map((h) => h.shape[1]),
    );
  }
}
