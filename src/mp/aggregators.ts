/**
 * Aggregators: how the messages into a node are reduced to one vector.
 *
 * An aggregator maps the `[E, d]` messages (in CSR order, so the messages
 * into node i are one contiguous run) to `[numDst, d']`. The built-ins
 * follow PyTorch Geometric's aggregation package (`torch_geometric.nn.aggr`):
 * sum, mean, max, min, var, std, softmax (Li et al. 2020, "DeeperGCN: All
 * You Need to Train Deeper GCNs") and power mean (same paper), plus lists of
 * aggregators combined by concatenation, sum or mean (Corso et al. 2020,
 * "Principal Neighbourhood Aggregation for Graph Nets").
 *
 * A node without incoming edges aggregates to 0 with every built-in
 * aggregator (std included, see {@link StdAggregator}).
 *
 * Custom aggregators implement {@link Aggregator} with the differentiable
 * primitives of `segment.ts` (`segmentSum`, `segmentMean`, `segmentMax`,
 * `segmentMin`, `segmentSoftmax`, `segmentBroadcast`, `gatherRows`).
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import {
  type Segments,
  segmentBroadcast,
  segmentMax,
  segmentMean,
  segmentMin,
  segmentSoftmax,
  segmentSum,
} from "./segment.js";

export type { Segments } from "./segment.js";

/**
 * The interface of an aggregator. `aggregate` receives the messages
 * `[E, d]` in CSR order and the {@link Segments} (one per destination
 * node) and returns `[numSegments, outputDim(d)]`. It must be built from
 * differentiable operations (TF.js ops and the primitives of `segment.ts`)
 * for gradients to flow.
 */
export interface Aggregator {
  /** A short name, used in error messages and summaries. */
  readonly name: string;
  /** Output width for messages of width d; `d` when omitted. */
  outputDim?(d: number): number;
  /** Reduce `[E, d]` messages to `[numSegments, d']`. */
  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D;
  /** Trainable variables of the aggregator (learnable temperature, p). */
  readonly variables?: readonly tf.Variable[];
}

/** Names of the built-in aggregators. */
export type AggregatorName =
  | "sum"
  | "mean"
  | "max"
  | "min"
  | "var"
  | "std"
  | "softmax"
  | "powermean";

/** How the outputs of a list of aggregators are combined. */
export type CombineMode = "concat" | "sum" | "mean";

/** Options of {@link StdAggregator}. */
export interface StdOptions {
  /** Added to the variance under the square root; default 1e-5. */
  eps?: number;
}

/** Options of {@link SoftmaxAggregator}. */
export interface SoftmaxOptions {
  /** Inverse temperature t multiplying the messages; default 1. */
  temperature?: number;
  /** Whether t is a trainable `tf.Variable`; default false. */
  learnable?: boolean;
}

/** Options of {@link PowerMeanAggregator}. */
export interface PowerMeanOptions {
  /** The power p (non-zero); default 1. */
  p?: number;
  /** Whether p is a trainable `tf.Variable`; default false. */
  learnable?: boolean;
}

/** A built-in aggregator named with its options. */
export type AggregatorConfig =
  | { name: "sum" | "mean" | "max" | "min" | "var" }
  | ({ name: "std" } & StdOptions)
  | ({ name: "softmax" } & SoftmaxOptions)
  | ({ name: "powermean" } & PowerMeanOptions);

/** A list of aggregators and how their outputs are combined. */
export interface AggregatorList {
  /** The aggregators, applied to the same messages. */
  list: readonly AggregateSpec[];
  /** `concat` (default) along features, or element-wise `sum`/`mean`. */
  combine?: CombineMode;
}

/**
 * Every way of naming an aggregation: a built-in name, an
 * {@link Aggregator} object, a built-in with options (`{ name, ...opts }`),
 * a list with its combination, or an array (a list combined by `concat`).
 */
export type AggregateSpec =
  | AggregatorName
  | Aggregator
  | AggregatorConfig
  | AggregatorList
  | readonly AggregateSpec[];

// ---------------------------------------------------------------------------
// the built-ins
// ---------------------------------------------------------------------------

/** `out_i = Σ_{e→i} m_e`. */
export class SumAggregator implements Aggregator {
  readonly name = "sum";
  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    return segmentSum(messages, segments);
  }
}

/**
 * `out_i = (1 / c_i) Σ_{e→i} m_e`, with `c_i` the number of incoming
 * edges (an edge count, not a weighted degree: weights act on the
 * messages).
 */
export class MeanAggregator implements Aggregator {
  readonly name = "mean";
  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    return segmentMean(messages, segments);
  }
}

/**
 * `out_i[k] = max_{e→i} m_e[k]`. The gradient goes to the first arg-max
 * in CSR order.
 */
export class MaxAggregator implements Aggregator {
  readonly name = "max";
  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    return segmentMax(messages, segments);
  }
}

/** `out_i[k] = min_{e→i} m_e[k]`; the gradient goes to the first arg-min. */
export class MinAggregator implements Aggregator {
  readonly name = "min";
  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    return segmentMin(messages, segments);
  }
}

/**
 * Population variance per channel, `out_i = (1 / c_i) Σ_{e→i}
 * (m_e − μ_i)²` with `μ_i` the mean. Computed in two passes (mean, then
 * squared deviations), so it is never negative and does not suffer the
 * cancellation of `E[m²] − E[m]²` (PyG's formula).
 */
export class VarAggregator implements Aggregator {
  readonly name = "var";
  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    return tf.tidy(() => variance(messages, segments));
  }
}

/** Two-pass segment variance. */
function variance(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
  const mu = segmentMean(messages, segments);
  const deviation = messages.sub(segmentBroadcast(mu, segments));
  return segmentMean(deviation.square() as tf.Tensor2D, segments);
}

/**
 * Standard deviation per channel, `out_i = sqrt(var_i + eps)` for a node
 * with incoming edges, as PyG (whose `eps` default is also 1e-5): the eps
 * keeps the gradient finite where the variance is 0 (one incoming edge,
 * or equal messages), at the price of a floor of `sqrt(eps)` ≈ 0.0032.
 * A node without incoming edges gives exactly 0 (PyG would give
 * `sqrt(eps)` there), like every other aggregator.
 *
 * Options: `eps` (default 1e-5, finite and >= 0).
 */
export class StdAggregator implements Aggregator {
  readonly name = "std";
  /** The constant under the square root. */
  readonly eps: number;

  constructor(options: StdOptions = {}) {
    this.eps = options.eps ?? 1e-5;
    if (!Number.isFinite(this.eps) || this.eps < 0) {
      throw new ConfigError(
        `StdAggregator: eps must be a finite number >= 0, got ${this.eps}`,
      );
    }
  }

  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    return tf.tidy(() => {
      const std = variance(messages, segments).add(this.eps).sqrt();
      return maskEmptySegments(std as tf.Tensor2D, segments);
    });
  }
}

/** Multiply the rows of segments without edges by 0 (no-op if none). */
function maskEmptySegments(
  values: tf.Tensor2D,
  segments: Segments,
): tf.Tensor2D {
  const { counts, numSegments } = segments;
  if (counts.every((c) => c > 0)) return values;
  const mask = new Float32Array(numSegments);
  for (let i = 0; i < numSegments; i++) mask[i] = counts[i] > 0 ? 1 : 0;
  return values.mul(tf.tensor2d(mask, [numSegments, 1]));
}

/** A scalar that is either fixed or a trainable variable. */
function scalarParameter(
  fn: string,
  name: string,
  value: number,
  learnable: boolean,
): number | tf.Variable<tf.Rank.R0> {
  if (!Number.isFinite(value)) {
    throw new ConfigError(
      `${fn}: ${name} must be a finite number, got ${value}`,
    );
  }
  if (!learnable) return value;
  const initial = tf.scalar(value);
  const variable = tf.variable(initial, true);
  initial.dispose();
  return variable;
}

/**
 * Softmax aggregation (DeeperGCN), per channel, over the messages into
 * node i: `out_i = Σ_{e→i} softmax_e(t · m_e) ⊙ m_e`, where the softmax
 * runs over the edges into i separately for every channel. t → 0 gives the
 * mean, t → ∞ the max, t → −∞ the min.
 *
 * Options: `temperature` t (default 1; any finite number) and `learnable`
 * (default false). When learnable, `temperature` is a scalar
 * `tf.Variable` the caller trains (it is also listed in `variables`); call
 * `dispose()` when done with it.
 */
export class SoftmaxAggregator implements Aggregator {
  readonly name = "softmax";
  /** t: a number, or a trainable scalar variable when learnable. */
  readonly temperature: number | tf.Variable<tf.Rank.R0>;
  readonly variables: readonly tf.Variable[];

  constructor(options: SoftmaxOptions = {}) {
    this.temperature = scalarParameter(
      "SoftmaxAggregator",
      "temperature",
      options.temperature ?? 1,
      options.learnable ?? false,
    );
    this.variables =
      typeof this.temperature === "number" ? [] : [this.temperature];
  }

  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    return tf.tidy(() => {
      const t = this.temperature;
      const scores = t === 1 ? messages : messages.mul(t);
      const alpha = segmentSoftmax(scores as tf.Tensor2D, segments);
      return segmentSum(alpha.mul(messages) as tf.Tensor2D, segments);
    });
  }

  /** Free the temperature variable (if learnable). */
  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/**
 * Power-mean aggregation (DeeperGCN), per channel:
 * `out_i = (mean_{e→i} clamp(m_e, 0, 100)^p)^(1/p)`, the mean itself
 * clamped to `[0, 100]` before the `1/p` power, exactly as PyG's
 * `PowerMeanAggregation` does. Negative messages thus count as 0: the
 * power of a negative number is not real. p = 1 gives the mean of the
 * clamped messages; when p is fixed at 1 the messages are not clamped at
 * all (plain mean, as in PyG).
 *
 * Where a clamped message or the clamped mean is 0, its power is defined
 * as 0 with a zero gradient (instead of the infinite derivative of `x^q`
 * at 0 for q < 1); this is exact for p > 0. A node without incoming edges
 * gives 0.
 *
 * Options: `p` (default 1, finite and non-zero) and `learnable` (default
 * false; then `p` is a trainable scalar `tf.Variable`, also listed in
 * `variables`; call `dispose()` when done with it).
 */
export class PowerMeanAggregator implements Aggregator {
  readonly name = "powermean";
  /** p: a number, or a trainable scalar variable when learnable. */
  readonly p: number | tf.Variable<tf.Rank.R0>;
  readonly variables: readonly tf.Variable[];

  constructor(options: PowerMeanOptions = {}) {
    const p0 = options.p ?? 1;
    if (p0 === 0) {
      throw new ConfigError(
        "PowerMeanAggregator: p must be non-zero (the result is raised to " +
          "1/p), got 0",
      );
    }
    this.p = scalarParameter(
      "PowerMeanAggregator",
      "p",
      p0,
      options.learnable ?? false,
    );
    this.variables = typeof this.p === "number" ? [] : [this.p];
  }

  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    const p = this.p;
    if (p === 1) return segmentMean(messages, segments);
    return tf.tidy(() => {
      const inverse = typeof p === "number" ? 1 / p : tf.reciprocal(p);
      const powered = positivePower(messages.clipByValue(0, 100), p);
      const mean = segmentMean(powered as tf.Tensor2D, segments);
      return positivePower(mean.clipByValue(0, 100), inverse) as tf.Tensor2D;
    });
  }

  /** Free the p variable (if learnable). */
  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/**
 * `x^q` for x >= 0, with 0 wherever x is 0 and a zero gradient there:
 * the base is moved to 1 where x is 0 (so no infinity appears in the
 * derivative) and the result multiplied by the step mask `[x > 0]`.
 */
function positivePower(x: tf.Tensor, q: number | tf.Tensor): tf.Tensor {
  // NOTE: `step` has a (zero) gradient; a `greater` mask would break the
  // tape, which finds no gradient for comparisons
  const positive = tf.step(x);
  const base = x.add(tf.onesLike(x).sub(positive));
  return base.pow(q).mul(positive);
}

/**
 * Several aggregators over the same messages, combined: `concat` joins
 * their outputs along features (width Σ d'_j), `sum` and `mean` combine
 * them element-wise (all widths must agree, else `ShapeError`).
 */
export class MultiAggregator implements Aggregator {
  readonly name: string;
  /** The aggregators, in order. */
  readonly aggregators: readonly Aggregator[];
  /** How their outputs are combined. */
  readonly combine: CombineMode;

  constructor(aggregators: readonly Aggregator[], combine: CombineMode) {
    if (aggregators.length === 0) {
      throw new ConfigError(
        "MultiAggregator: expected at least one aggregator, got an empty list",
      );
    }
    if (!["concat", "sum", "mean"].includes(combine)) {
      throw new ConfigError(
        "MultiAggregator: combine must be 'concat', 'sum' or 'mean', got " +
          `'${combine}'`,
      );
    }
    this.aggregators = aggregators;
    this.combine = combine;
    this.name = `${combine}(${aggregators.map((a) => a.name).join(", ")})`;
  }

  get variables(): readonly tf.Variable[] {
    return this.aggregators.flatMap((a) => a.variables ?? []);
  }

  outputDim(d: number): number {
    const dims = this.aggregators.map((a) => outputDimOf(a, d));
    if (this.combine === "concat") return dims.reduce((s, v) => s + v, 0);
    if (dims.some((v) => v !== dims[0])) {
      throw new ShapeError(
        `MultiAggregator: '${this.combine}' needs equal output widths, got ` +
          `[${dims}] for ${this.name}`,
      );
    }
    return dims[0];
  }

  aggregate(messages: tf.Tensor2D, segments: Segments): tf.Tensor2D {
    return this.combineOutputs(
      this.aggregators.map((a) => a.aggregate(messages, segments)),
    );
  }

  /**
   * Combine the outputs of the aggregators (one `[numDst, d'_j]` tensor
   * each, in order). Exposed so that propagate can compute some of them
   * with fused kernels.
   */
  combineOutputs(outputs: tf.Tensor2D[]): tf.Tensor2D {
    if (this.combine === "concat") {
      return outputs.length === 1 ? outputs[0] : tf.concat(outputs, 1);
    }
    const width = outputs[0].shape[1];
    if (outputs.some((o) => o.shape[1] !== width)) {
      throw new ShapeError(
        `MultiAggregator: '${this.combine}' needs equal output widths, got ` +
          `[${outputs.map((o) => o.shape[1])}] for ${this.name}`,
      );
    }
    const total = outputs.length === 1 ? outputs[0] : tf.addN(outputs);
    return this.combine === "sum"
      ? total
      : (total.div(outputs.length) as tf.Tensor2D);
  }
}

/** Output width of an aggregator for messages of width d. */
export function outputDimOf(aggregator: Aggregator, d: number): number {
  return aggregator.outputDim === undefined ? d : aggregator.outputDim(d);
}

// ---------------------------------------------------------------------------
// resolving a spec
// ---------------------------------------------------------------------------

const NAMES: readonly AggregatorName[] = [
  "sum",
  "mean",
  "max",
  "min",
  "var",
  "std",
  "softmax",
  "powermean",
];

/** Option keys each built-in accepts besides `name`. */
const OPTION_KEYS: Record<AggregatorName, readonly string[]> = {
  sum: [],
  mean: [],
  max: [],
  min: [],
  var: [],
  std: ["eps"],
  softmax: ["temperature", "learnable"],
  powermean: ["p", "learnable"],
};

/** Options of {@link resolveAggregator}. */
export interface ResolveOptions {
  /** Function name that error messages start with; default its own. */
  caller?: string;
  /**
   * Whether a learnable built-in (`{ name: "softmax", learnable: true }`)
   * may be created; default true. `propagate` passes false: a variable
   * created anew at every call could never be trained.
   */
  allowLearnable?: boolean;
}

/** Whether a value is an {@link Aggregator} object. */
function isAggregator(value: unknown): value is Aggregator {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Aggregator).aggregate === "function"
  );
}

/** The received value, shortened for an error message. */
function describe(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.slice(0, 80);
  } catch {
    return String(value);
  }
}

/**
 * Turn an {@link AggregateSpec} into an {@link Aggregator}: names and
 * configs into new built-ins, lists and arrays into a
 * {@link MultiAggregator}; an Aggregator object is returned as it is.
 * Raises `ConfigError` for an unknown name, an unknown option, an empty
 * list or (when not allowed) a learnable inline config.
 */
export function resolveAggregator(
  spec: AggregateSpec,
  options: ResolveOptions = {},
): Aggregator {
  const fn = options.caller ?? "resolveAggregator";
  const allowLearnable = options.allowLearnable ?? true;

  if (isAggregator(spec)) return spec;
  if (Array.isArray(spec)) {
    return resolveList(spec, "concat", options);
  }
  if (typeof spec === "string") return builtin(fn, { name: spec } as never);
  if (typeof spec === "object" && spec !== null) {
    if ("list" in spec) {
      const list = (spec as AggregatorList).list;
      if (!Array.isArray(list)) {
        throw new ConfigError(
          `${fn}: 'list' must be an array of aggregators, got ` +
            describe(list),
        );
      }
      return resolveList(list, spec.combine ?? "concat", options);
    }
    if ("name" in spec) {
      const config = spec as AggregatorConfig & { learnable?: boolean };
      if (config.learnable === true && !allowLearnable) {
        throw new ConfigError(
          `${fn}: a learnable '${config.name}' must be created once (e.g. ` +
            "new SoftmaxAggregator({ learnable: true })) and passed as the " +
            `aggregator object, got the inline config ${describe(spec)}`,
        );
      }
      return builtin(fn, config);
    }
  }
  throw new ConfigError(
    `${fn}: expected an aggregator name (${NAMES.join(", ")}), an ` +
      `Aggregator, a { name } config or a { list } of them, got ${describe(
        spec,
      )}`,
  );
}

/** Resolve a list spec into a {@link MultiAggregator}. */
function resolveList(
  list: readonly AggregateSpec[],
  combine: CombineMode,
  options: ResolveOptions,
): Aggregator {
  const fn = options.caller ?? "resolveAggregator";
  if (list.length === 0) {
    throw new ConfigError(
      `${fn}: an aggregator list needs at least one entry, got []`,
    );
  }
  if (!["concat", "sum", "mean"].includes(combine)) {
    throw new ConfigError(
      `${fn}: combine must be 'concat', 'sum' or 'mean', got ` +
        describe(combine),
    );
  }
  return new MultiAggregator(
    list.map((s) => resolveAggregator(s, options)),
    combine,
  );
}

/** Build a built-in aggregator from its config. */
function builtin(fn: string, config: AggregatorConfig): Aggregator {
  const name = config.name as AggregatorName;
  if (!NAMES.includes(name)) {
    throw new ConfigError(
      `${fn}: unknown aggregator ${describe(name)}, expected one of ` +
        NAMES.join(", "),
    );
  }
  for (const key of Object.keys(config)) {
    if (key !== "name" && !OPTION_KEYS[name].includes(key)) {
      throw new ConfigError(
        `${fn}: aggregator '${name}' has no option '${key}' (options: ` +
          `${OPTION_KEYS[name].join(", ") || "none"})`,
      );
    }
  }
  switch (config.name) {
    case "sum":
      return new SumAggregator();
    case "mean":
      return new MeanAggregator();
    case "max":
      return new MaxAggregator();
    case "min":
      return new MinAggregator();
    case "var":
      return new VarAggregator();
    case "std":
      return new StdAggregator(config);
    case "softmax":
      return new SoftmaxAggregator(config);
    case "powermean":
      return new PowerMeanAggregator(config);
  }
}
