/**
 * Multi-stage alignment, the contrastive side of jumping knowledge (Wang
 * et al. 2023, "A Message Passing Perspective on Learning Dynamics of
 * Contrastive Learning", §5): a memory bank keeps each sample's features
 * from its last r epochs, and the alignment target of every view mixes
 * its current positives with the average of that memory,
 *
 *   target_i = (1 − μ) (R F)_i + μ M̄_{s(i)},
 *
 * R the mean over the view's positives, s(i) the sample of row i and μ
 * the mix weight (published setting: r = 1, μ = 0.5).
 */

import { tf } from "../../backend.js";
import { ConfigError, NotImplementedError, ShapeError } from "../../errors.js";
import { propagate } from "../../mp/propagate.js";
import {
  type ContrastiveObjective,
  type FeatureUpdateTerms,
  type ObjectiveInput,
  positiveMeanGraph,
} from "../objectives.js";

/** A memory bank's contents as plain data, for checkpoints. */
export interface MemoryBankState {
  /** Samples N. */
  numSamples: number;
  /** Feature width k. */
  dim: number;
  /** Entries r kept per sample. */
  epochs: number;
  /** `[r, N, k]` row-major: slot t of sample s at `(t · N + s) · k`. */
  values: Float32Array;
  /** Entries written per sample, at most r. */
  counts: Int32Array;
  /** Next slot of each sample's ring. */
  heads: Int32Array;
}

/**
 * Each sample's last r feature vectors (a ring per sample): since every
 * sample is seen once per epoch, these are its features of the last r
 * epochs. Values are float32 copies; no tensor is held.
 */
export class MemoryBank {
  readonly numSamples: number;
  readonly dim: number;
  readonly epochs: number;
  readonly #values: Float32Array;
  readonly #counts: Int32Array;
  readonly #heads: Int32Array;

  /**
   * @param numSamples N, the samples of the data set.
   * @param dim k, the width of the stored features.
   * @param epochs r ≥ 1, entries kept per sample.
   * @throws ConfigError unless the three are positive integers.
   */
  constructor(numSamples: number, dim: number, epochs: number) {
    for (const [name, v] of [
      ["numSamples", numSamples],
      ["dim", dim],
      ["epochs", epochs],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new ConfigError(
          `MemoryBank: ${name} must be a positive integer, got ${v}`,
        );
      }
    }
    this.numSamples = numSamples;
    this.dim = dim;
    this.epochs = epochs;
    this.#values = new Float32Array(epochs * numSamples * dim);
    this.#counts = new Int32Array(numSamples);
    this.#heads = new Int32Array(numSamples);
  }

  /**
   * Store one feature row per sample: row p of `features` (`[b, k]`
   * row-major) for sample `samples[p]`, replacing its oldest entry when
   * r are held.
   *
   * @throws ShapeError for a feature array that is not b × k; ConfigError
   *   for a sample id out of range.
   */
  push(samples: ArrayLike<number>, features: ArrayLike<number>): void {
    const { dim: k, numSamples: n } = this;
    const b = samples.length;
    if (features.length !== b * k) {
      throw new ShapeError(
        `MemoryBank.push: expected ${b} × ${k} = ${b * k} values, got ${features.length}`,
      );
    }
    for (let p = 0; p < b; p++) {
      const s = samples[p];
      if (!Number.isInteger(s) || s < 0 || s >= n) {
        throw new ConfigError(
          `MemoryBank.push: sample ids must lie in [0, ${n}), got ${s}`,
        );
      }
      const slot = this.#heads[s];
      const offset = (slot * n + s) * k;
      for (let c = 0; c < k; c++)
        this.#values[offset + c] = features[p * k + c];
      this.#heads[s] = (slot + 1) % this.epochs;
      this.#counts[s] = Math.min(this.epochs, this.#counts[s] + 1);
    }
  }

  /** Entries held for sample `s` (0 … r). */
  entries(s: number): number {
    return this.#counts[s] ?? 0;
  }

  /** Whether every one of `samples` has at least one entry. */
  has(samples: ArrayLike<number>): boolean {
    for (let p = 0; p < samples.length; p++) {
      if (this.#counts[samples[p]] === 0) return false;
    }
    return true;
  }

  /**
   * M̄: the mean of each sample's entries, `[b, k]` row-major float32
   * (float64 sums), a zero row for a sample without entries.
   */
  mean(samples: ArrayLike<number>): Float32Array {
    const { dim: k, numSamples: n } = this;
    const out = new Float32Array(samples.length * k);
    const sum = new Float64Array(k);
    for (let p = 0; p < samples.length; p++) {
      const s = samples[p];
      const count = this.#counts[s];
      if (count === 0) continue;
      sum.fill(0);
      for (let t = 0; t < count; t++) {
        const offset = (t * n + s) * k;
        for (let c = 0; c < k; c++) sum[c] += this.#values[offset + c];
      }
      for (let c = 0; c < k; c++) out[p * k + c] = sum[c] / count;
    }
    return out;
  }

  /** A copy of the contents, for a checkpoint. */
  state(): MemoryBankState {
    return {
      numSamples: this.numSamples,
      dim: this.dim,
      epochs: this.epochs,
      values: this.#values.slice(),
      counts: this.#counts.slice(),
      heads: this.#heads.slice(),
    };
  }

  /**
   * Restore contents written by {@link MemoryBank.state}.
   *
   * @throws ShapeError when the sizes differ from this bank's.
   */
  load(state: MemoryBankState): void {
    if (
      state.numSamples !== this.numSamples ||
      state.dim !== this.dim ||
      state.epochs !== this.epochs ||
      state.values.length !== this.#values.length ||
      state.counts.length !== this.numSamples ||
      state.heads.length !== this.numSamples
    ) {
      throw new ShapeError(
        `MemoryBank.load: expected N ${this.numSamples}, k ${this.dim}, ` +
          `r ${this.epochs}, got N ${state.numSamples}, k ${state.dim}, ` +
          `r ${state.epochs}`,
      );
    }
    this.#values.set(state.values);
    this.#counts.set(state.counts);
    this.#heads.set(state.heads);
  }
}

/** Options of {@link multiStageObjective}. */
export interface MultiStageObjectiveOptions {
  /**
   * μ ∈ [0, 1], the weight of the memory in the target (default 0.5);
   * or one μ_i per row of F, e.g. 0 for rows whose sample has no memory
   * yet (their target is then the base objective's).
   */
  mix?: number | Float32Array;
  /** τ of an InfoNCE or GRACE base objective (required for those). */
  temperature?: number;
}

/**
 * A base objective whose alignment target mixes in constant memory
 * features M̄ (`[n, k]`, one row per view, e.g. the memory bank's mean of
 * the row's sample). Every objective of `objectives.ts` has a positive
 * term `−Σ_i s_i F_i · (R X)_i` (X = F, or the targets T of SimSiam and
 * BYOL) with per-row scale s_i: a_i/τ (InfoNCE, GRACE; a the anchor
 * weights, default 1/n), 2/n (spectral), 1/n (SimSiam), 4/n (BYOL).
 * Multi-stage alignment replaces `(R X)_i` by `(1 − μ_i)(R X)_i + μ_i M̄_i`
 * (μ_i = μ for every row unless a per-row mix is given):
 *
 *   L' = L + Σ_i μ_i s_i F_i · (R X)_i − Σ_i μ_i s_i F_i · M̄_i
 *   ΔF' = diag(1 − μ) alignment + diag(μ s) M̄ − uniformity.
 *
 * Both forms are returned (`loss` for the "loss" path, the update terms
 * for the "update" path), so the step's two paths agree.
 *
 * @throws ConfigError for a μ outside [0, 1] or an InfoNCE/GRACE base
 *   without `temperature`; ShapeError (at evaluation) when M̄ is not of
 *   F's shape or a per-row mix not of F's row count.
 */
export function multiStageObjective(
  base: ContrastiveObjective,
  memory: tf.Tensor2D,
  options: MultiStageObjectiveOptions = {},
): ContrastiveObjective {
  const fn = "multiStageObjective";
  const mix = options.mix ?? 0.5;
  const mixes = typeof mix === "number" ? [mix] : Array.from(mix);
  for (const m of mixes) {
    if (!(typeof m === "number" && m >= 0 && m <= 1)) {
      throw new ConfigError(`${fn}: mix must lie in [0, 1], got ${m}`);
    }
  }

  // μ_i of every row, checked against the row count
  const rowMix = (n: number): Float32Array => {
    if (typeof mix === "number") return new Float32Array(n).fill(mix);
    if (mix.length !== n) {
      throw new ShapeError(
        `${fn}: a per-row mix must have length ${n}, got ${mix.length}`,
      );
    }
    return mix;
  };
  const infonce = base.name === "infonce" || base.name === "grace";
  const tau = options.temperature;
  if (infonce && !(typeof tau === "number" && tau > 0)) {
    throw new ConfigError(
      `${fn}: a ${base.name} base needs its temperature > 0, got ${tau}`,
    );
  }

  // the per-row scales s_i of the positive term
  const scales = (input: ObjectiveInput): Float32Array => {
    const n = input.features.shape[0];
    const out = new Float32Array(n);
    switch (base.name) {
      case "infonce":
      case "grace": {
        const a = input.anchorWeights;
        if (a !== undefined && a.length !== n) {
          throw new ShapeError(
            `${fn}: anchorWeights must have length ${n}, got ${a.length}`,
          );
        }
        for (let i = 0; i < n; i++) {
          out[i] = (a === undefined ? 1 / n : a[i]) / (tau as number);
        }
        return out;
      }
      case "spectral":
        return out.fill(2 / n);
      case "simsiam":
        return out.fill(1 / n);
      case "byol":
        return out.fill(4 / n);
      default:
        throw new NotImplementedError(
          `${fn}: no positive-term scale for objective ${String(base.name)}`,
        );
    }
  };
  const checkMemory = (input: ObjectiveInput) => {
    const f = input.features;
    if (
      memory.rank !== 2 ||
      memory.shape[0] !== f.shape[0] ||
      memory.shape[1] !== f.shape[1]
    ) {
      throw new ShapeError(
        `${fn}: memory must have the shape of features [${f.shape}], got [${memory.shape}]`,
      );
    }
  };

  return {
    name: base.name,
    usesTargets: base.usesTargets,
    loss(input: ObjectiveInput): tf.Scalar {
      checkMemory(input);
      const s = scales(input);
      const mu = rowMix(s.length);
      const w = s.map((si, i) => si * mu[i]);
      return tf.tidy(() => {
        const baseLoss = base.loss(input);
        const f = input.features;
        const x = base.usesTargets ? (input.targets as tf.Tensor2D) : f;
        const rx = propagate(positiveMeanGraph(input.augmentation), x);
        const weights = tf.tensor2d(w, [w.length, 1]);
        const positive = tf.sum(tf.mul(weights, tf.mul(f, rx)));
        const remembered = tf.sum(tf.mul(weights, tf.mul(f, memory)));
        return tf.add(baseLoss, tf.sub(positive, remembered)) as tf.Scalar;
      });
    },
    featureUpdate(input: ObjectiveInput): tf.Tensor2D {
      const terms = this.featureUpdateTerms(input);
      if (terms.uniformity === null) return terms.alignment;
      const out = tf.sub(terms.alignment, terms.uniformity) as tf.Tensor2D;
      tf.dispose([terms.alignment, terms.uniformity]);
      return out;
    },
    featureUpdateTerms(input: ObjectiveInput): FeatureUpdateTerms {
      checkMemory(input);
      const s = scales(input);
      const mu = rowMix(s.length);
      const w = s.map((si, i) => si * mu[i]);
      const keep = mu.map((m) => 1 - m);
      const terms = base.featureUpdateTerms(input);
      const alignment = tf.tidy(() =>
        tf.add(
          tf.mul(terms.alignment, tf.tensor2d(keep, [keep.length, 1])),
          tf.mul(tf.tensor2d(w, [w.length, 1]), memory),
        ),
      ) as tf.Tensor2D;
      terms.alignment.dispose();
      return { alignment, uniformity: terms.uniformity };
    },
  };
}
