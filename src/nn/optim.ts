/**
 * First-order optimizers over a model's {@link Parameter}s and their
 * learning-rate schedules: Adam (Kingma & Ba, "Adam: A Method for
 * Stochastic Optimization", ICLR 2015) with coupled L2 weight decay as in
 * PyTorch's `Adam`, or decoupled as in AdamW (Loshchilov & Hutter,
 * "Decoupled Weight Decay Regularization", ICLR 2019); SGD with momentum
 * and the Nesterov variant (Sutskever et al., ICML 2013), in PyTorch's
 * form; constant, step-decay and warm-up + cosine schedules (Loshchilov &
 * Hutter, "SGDR", ICLR 2017, without restarts).
 *
 * The optimizers are written on tensors rather than on `tf.train.*`, so
 * that their state (moment estimates and step count) can be exported as
 * typed arrays and loaded back: a run resumed from a checkpoint takes
 * bit-for-bit the steps that the uninterrupted run would have taken.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { Parameter } from "./module.js";

// ---------------------------------------------------------------------------
// learning-rate schedules
// ---------------------------------------------------------------------------

/**
 * How the learning rate changes with the step count t (0 for the first
 * step), for a base rate `lr`:
 *
 * - `constant`: `lr`.
 * - `step`: `lr · gamma^⌊t / stepSize⌋` (gamma default 0.1).
 * - `cosine`: a linear warm-up `lr · (t + 1) / warmupSteps` for
 *   `t < warmupSteps`, then `minLr + (lr − minLr) · (1 + cos(π p)) / 2`
 *   with `p = min(1, (t − warmupSteps) / max(1, totalSteps −
 *   warmupSteps))`; it stays at `minLr` after `totalSteps`.
 *   `warmupSteps` defaults to 0 and `minLr` to 0.
 */
export type LearningRateSchedule =
  | { kind: "constant" }
  | { kind: "step"; stepSize: number; gamma?: number }
  | {
      kind: "cosine";
      totalSteps: number;
      warmupSteps?: number;
      minLr?: number;
    };

/**
 * The learning rate of step `t` (0-based) under `schedule` for base rate
 * `lr`; the closed forms are those of {@link LearningRateSchedule}.
 */
export function learningRateAt(
  lr: number,
  schedule: LearningRateSchedule,
  t: number,
): number {
  switch (schedule.kind) {
    case "constant":
      return lr;
    case "step":
      return lr * (schedule.gamma ?? 0.1) ** Math.floor(t / schedule.stepSize);
    case "cosine": {
      const warmup = schedule.warmupSteps ?? 0;
      const minLr = schedule.minLr ?? 0;
      if (t < warmup) return (lr * (t + 1)) / warmup;
      const span = Math.max(1, schedule.totalSteps - warmup);
      const p = Math.min(1, (t - warmup) / span);
      return minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * p))) / 2;
    }
  }
}

/** Raise `ConfigError` unless `schedule` is well formed. */
function checkSchedule(fn: string, schedule: LearningRateSchedule): void {
  const positiveInt = (v: unknown) =>
    typeof v === "number" && Number.isInteger(v) && v > 0;
  switch (schedule.kind) {
    case "constant":
      return;
    case "step":
      if (!positiveInt(schedule.stepSize)) {
        throw new ConfigError(
          `${fn}: schedule.stepSize must be a positive integer, got ${schedule.stepSize}`,
        );
      }
      if (schedule.gamma !== undefined && !(schedule.gamma > 0)) {
        throw new ConfigError(
          `${fn}: schedule.gamma must be positive, got ${schedule.gamma}`,
        );
      }
      return;
    case "cosine": {
      if (!positiveInt(schedule.totalSteps)) {
        throw new ConfigError(
          `${fn}: schedule.totalSteps must be a positive integer, got ${schedule.totalSteps}`,
        );
      }
      const w = schedule.warmupSteps ?? 0;
      if (!(Number.isInteger(w) && w >= 0 && w <= schedule.totalSteps)) {
        throw new ConfigError(
          `${fn}: schedule.warmupSteps must be an integer in [0, totalSteps = ${schedule.totalSteps}], got ${w}`,
        );
      }
      const m = schedule.minLr ?? 0;
      if (!(m >= 0)) {
        throw new ConfigError(
          `${fn}: schedule.minLr must be non-negative, got ${m}`,
        );
      }
      return;
    }
    default:
      throw new ConfigError(
        `${fn}: schedule.kind must be constant, step or cosine, got ${JSON.stringify((schedule as { kind: unknown }).kind)}`,
      );
  }
}

// ---------------------------------------------------------------------------
// the optimizer base
// ---------------------------------------------------------------------------

/** Gradients keyed by parameter name (or by the variable's own name). */
export type Gradients = Map<string, tf.Tensor> | tf.NamedTensorMap;

/** Options shared by every optimizer. */
export interface OptimizerOptions {
  /** Base learning rate (default 0.001 for Adam, 0.01 for SGD). */
  lr?: number;
  /**
   * Weight-decay coefficient λ (default 0). It applies only to parameters
   * whose `decay` is not `false`.
   */
  weightDecay?: number;
  /** Learning-rate schedule over steps (default constant). */
  schedule?: LearningRateSchedule;
}

/**
 * What an optimizer carries between steps, as plain data: the step count
 * and, per parameter name, its slot tensors (Adam: `m`, `v`; SGD:
 * `momentum`) as float32 arrays in the parameter's row-major layout.
 */
export interface OptimizerState {
  /** Which optimizer wrote it (`"adam"` or `"sgd"`). */
  readonly kind: string;
  /** Number of steps taken so far. */
  readonly step: number;
  /** Slot arrays per parameter name, then per slot name. */
  readonly slots: Record<string, Record<string, Float32Array>>;
}

/**
 * An optimizer over a fixed list of parameters. `step(grads)` updates
 * every parameter that has a gradient in `grads` (looked up by
 * `Parameter.name`, then by the variable's own name) and leaves the
 * others unchanged, then advances the step count. The caller keeps
 * ownership of `grads`.
 *
 * LIMITATION: the step count is shared by all parameters, so a parameter
 * that missed some steps gets Adam's bias correction of the global count
 * (PyTorch keeps one count per parameter); with every parameter in every
 * step, as in full-batch training, the two agree.
 */
export abstract class Optimizer {
  /** The parameters, in the order given. */
  readonly parameters: readonly Parameter[];
  /** Base learning rate. */
  readonly lr: number;
  /** Weight-decay coefficient λ. */
  readonly weightDecay: number;
  /** The learning-rate schedule. */
  readonly schedule: LearningRateSchedule;
  /** Steps taken so far. */
  protected stepCount = 0;
  /** Slot tensors per parameter name, created lazily at the first step. */
  protected readonly slots = new Map<string, Map<string, tf.Tensor>>();

  protected constructor(
    protected readonly kind: string,
    parameters: readonly Parameter[],
    options: OptimizerOptions,
    defaultLr: number,
  ) {
    const fn = kind === "adam" ? "Adam" : "SGD";
    this.lr = options.lr ?? defaultLr;
    this.weightDecay = options.weightDecay ?? 0;
    this.schedule = options.schedule ?? { kind: "constant" };
    if (!(this.lr >= 0 && Number.isFinite(this.lr))) {
      throw new ConfigError(
        `${fn}: lr must be a finite non-negative number, got ${this.lr}`,
      );
    }
    if (!(this.weightDecay >= 0 && Number.isFinite(this.weightDecay))) {
      throw new ConfigError(
        `${fn}: weightDecay must be a finite non-negative number, got ${this.weightDecay}`,
      );
    }
    checkSchedule(fn, this.schedule);
    const names = new Set<string>();
    for (const p of parameters) {
      if (names.has(p.name)) {
        throw new ConfigError(
          `${fn}: parameter names must be unique, got '${p.name}' twice`,
        );
      }
      names.add(p.name);
    }
    this.parameters = [...parameters];
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** The learning rate the next step will use. */
  get learningRate(): number {
    return learningRateAt(this.lr, this.schedule, this.stepCount);
  }

  /** Apply one update from `grads` (see the class comment). */
  step(grads: Gradients): void {
    const lr = this.learningRate;
    const t = this.stepCount + 1;
    for (const p of this.parameters) {
      const g = lookup(grads, p);
      if (g === undefined) continue;
      if (!shapesEqual(g.shape, p.variable.shape)) {
        throw new ShapeError(
          `${this.constructor.name}.step: gradient of '${p.name}' must have shape [${p.variable.shape}], got [${g.shape}]`,
        );
      }
      const decay = p.decay === false ? 0 : this.weightDecay;
      this.update(p, g, this.slotsOf(p), lr, decay, t);
    }
    this.stepCount = t;
  }

  /**
   * Update one parameter in place (its variable and its slots), for step
   * number `t` (1 for the first step) at learning rate `lr` with weight
   * decay `decay` (0 when the parameter is not decayed).
   */
  protected abstract update(
    p: Parameter,
    grad: tf.Tensor,
    slots: Map<string, tf.Tensor>,
    lr: number,
    decay: number,
    t: number,
  ): void;

  /** Names of the slots this optimizer keeps per parameter. */
  protected abstract slotNames(): string[];

  /** The slots of `p`, zero-initialised on first use. */
  private slotsOf(p: Parameter): Map<string, tf.Tensor> {
    let s = this.slots.get(p.name);
    if (s === undefined) {
      s = new Map();
      for (const name of this.slotNames()) {
        s.set(name, tf.zerosLike(p.variable));
      }
      this.slots.set(p.name, s);
    }
    return s;
  }

  /** Replace slot `name` of `slots` by `value`, freeing the old one. */
  protected replace(
    slots: Map<string, tf.Tensor>,
    name: string,
    value: tf.Tensor,
  ): void {
    slots.get(name)?.dispose();
    slots.set(name, tf.keep(value));
  }

  /**
   * The optimizer's state as plain data (copies): step count and slot
   * arrays. Together with the parameter values it resumes a run exactly.
   */
  state(): OptimizerState {
    const slots: Record<string, Record<string, Float32Array>> = {};
    for (const [pname, s] of this.slots) {
      const out: Record<string, Float32Array> = {};
      for (const [name, tensor] of s) {
        out[name] = new Float32Array(tensor.dataSync() as Float32Array);
      }
      slots[pname] = out;
    }
    return { kind: this.kind, step: this.stepCount, slots };
  }

  /**
   * Load a state written by {@link Optimizer.state | state} of the same kind of optimizer
   * over parameters of the same names and shapes; slots of parameters the
   * state does not mention are reset to zero on their next step.
   *
   * @throws ConfigError for a state of another optimizer, an unknown
   *   parameter or a missing slot; ShapeError for a slot of the wrong size.
   */
  loadState(state: OptimizerState): void {
    const fn = `${this.constructor.name}.loadState`;
    if (state.kind !== this.kind) {
      throw new ConfigError(
        `${fn}: expected a state of kind '${this.kind}', got '${state.kind}'`,
      );
    }
    if (!(Number.isInteger(state.step) && state.step >= 0)) {
      throw new ConfigError(
        `${fn}: step must be a non-negative integer, got ${state.step}`,
      );
    }
    const byName = new Map(this.parameters.map((p) => [p.name, p]));

    // first we check everything, so that a bad state changes nothing
    for (const [pname, s] of Object.entries(state.slots)) {
      const p = byName.get(pname);
      if (p === undefined) {
        throw new ConfigError(`${fn}: unknown parameter '${pname}'`);
      }
      for (const name of this.slotNames()) {
        const arr = s[name];
        if (arr === undefined) {
          throw new ConfigError(
            `${fn}: parameter '${pname}' lacks slot '${name}'`,
          );
        }
        if (arr.length !== p.variable.size) {
          throw new ShapeError(
            `${fn}: slot '${name}' of '${pname}' must hold ${p.variable.size} values, got ${arr.length}`,
          );
        }
      }
    }

    // then we replace the slots
    this.disposeSlots();
    for (const [pname, s] of Object.entries(state.slots)) {
      const p = byName.get(pname)!;
      const slots = new Map<string, tf.Tensor>();
      for (const name of this.slotNames()) {
        slots.set(name, tf.tensor(s[name], p.variable.shape, "float32"));
      }
      this.slots.set(pname, slots);
    }
    this.stepCount = state.step;
  }

  /** Free the slot tensors (the parameters stay). */
  dispose(): void {
    this.disposeSlots();
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) {
      for (const tensor of s.values()) tensor.dispose();
    }
    this.slots.clear();
  }
}

/** The gradient of `p` in `grads`, by parameter name then variable name. */
function lookup(grads: Gradients, p: Parameter): tf.Tensor | undefined {
  if (grads instanceof Map) {
    return grads.get(p.name) ?? grads.get(p.variable.name);
  }
  return grads[p.name] ?? grads[p.variable.name];
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// ---------------------------------------------------------------------------
// Adam and AdamW
// ---------------------------------------------------------------------------

/** Options of {@link Adam}. */
export interface AdamOptions extends OptimizerOptions {
  /** Decay of the first-moment estimate β1 (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment estimate β2 (default 0.999). */
  beta2?: number;
  /** ε added to the denominator (default 1e-8). */
  epsilon?: number;
  /**
   * Decoupled weight decay (AdamW) when true; default false: coupled L2,
   * the gradient becomes `g + λ θ` as in PyTorch's `Adam` and as the L2
   * term of Kipf & Welling's loss (whose gradient is `2 · (λ/2) θ`).
   */
  decoupled?: boolean;
}

/**
 * Adam. At step t (from 1) with gradient g of parameter θ:
 *
 *     g ← g + λ θ                         (coupled decay, default)
 *     m ← β1 m + (1 − β1) g
 *     v ← β2 v + (1 − β2) g²
 *     θ ← θ − η_t · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε)
 *
 * With `decoupled: true` (AdamW) the decay is instead applied to the
 * weights before the moment update, `θ ← θ − η_t λ θ`, and g is left as
 * is. η_t is the scheduled learning rate (default lr 0.001).
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly decoupled: boolean;

  constructor(parameters: readonly Parameter[], options: AdamOptions = {}) {
    super("adam", parameters, options, 0.001);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.decoupled = options.decoupled ?? false;
    for (const [name, b] of [
      ["beta1", this.beta1],
      ["beta2", this.beta2],
    ] as const) {
      if (!(b >= 0 && b < 1)) {
        throw new ConfigError(`Adam: ${name} must lie in [0, 1), got ${b}`);
      }
    }
    if (!(this.epsilon > 0)) {
      throw new ConfigError(
        `Adam: epsilon must be positive, got ${this.epsilon}`,
      );
    }
  }

  protected slotNames(): string[] {
    return ["m", "v"];
  }

  protected update(
    p: Parameter,
    grad: tf.Tensor,
    slots: Map<string, tf.Tensor>,
    lr: number,
    decay: number,
    t: number,
  ): void {
    const { beta1, beta2, epsilon } = this;
    const bias1 = 1 - beta1 ** t;
    const bias2 = 1 - beta2 ** t;
    const [m, v, theta] = tf.tidy(() => {
      let g = grad;
      let w: tf.Tensor = p.variable;

      // weight decay: into the gradient (L2) or onto the weights (AdamW)
      if (decay > 0 && !this.decoupled) g = tf.add(g, tf.mul(w, decay));
      if (decay > 0 && this.decoupled) w = tf.mul(w, 1 - lr * decay);

      // moment estimates, then the bias-corrected step
      const m = tf.add(tf.mul(slots.get("m")!, beta1), tf.mul(g, 1 - beta1));
      const v = tf.add(
        tf.mul(slots.get("v")!, beta2),
        tf.mul(tf.square(g), 1 - beta2),
      );
      const denominator = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bias2)), epsilon);
      const theta = tf.sub(w, tf.mul(tf.div(m, denominator), lr / bias1));
      return [m, v, theta];
    });
    this.replace(slots, "m", m);
    this.replace(slots, "v", v);
    p.variable.assign(theta);
    theta.dispose();
  }
}

// ---------------------------------------------------------------------------
// SGD with momentum
// ---------------------------------------------------------------------------

/** Options of {@link SGD}. */
export interface SGDOptions extends OptimizerOptions {
  /** Momentum μ (default 0: plain gradient descent). */
  momentum?: number;
  /** Nesterov's variant of momentum (default false; needs μ > 0). */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with momentum, PyTorch's form (no
 * dampening). At each step, with gradient g of parameter θ:
 *
 *     g ← g + λ θ                 (coupled L2 weight decay)
 *     b ← μ b + g                 (b starts at 0, so b = g at step 1)
 *     d ← g + μ b  (Nesterov)  or  d ← b
 *     θ ← θ − η_t d
 *
 * Default lr 0.01.
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(parameters: readonly Parameter[], options: SGDOptions = {}) {
    super("sgd", parameters, options, 0.01);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (!(this.momentum >= 0 && this.momentum < 1)) {
      throw new ConfigError(
        `SGD: momentum must lie in [0, 1), got ${this.momentum}`,
      );
    }
    if (this.nesterov && this.momentum === 0) {
      throw new ConfigError("SGD: nesterov needs momentum > 0, got 0");
    }
  }

  protected slotNames(): string[] {
    return this.momentum > 0 ? ["momentum"] : [];
  }

  protected update(
    p: Parameter,
    grad: tf.Tensor,
    slots: Map<string, tf.Tensor>,
    lr: number,
    decay: number,
    _t: number,
  ): void {
    const mu = this.momentum;
    const [buffer, theta] = tf.tidy(() => {
      const g = decay > 0 ? tf.add(grad, tf.mul(p.variable, decay)) : grad;
      if (mu === 0) return [null, tf.sub(p.variable, tf.mul(g, lr))];
      const b = tf.add(tf.mul(slots.get("momentum")!, mu), g);
      const d = this.nesterov ? tf.add(g, tf.mul(b, mu)) : b;
      return [b, tf.sub(p.variable, tf.mul(d, lr))];
    });
    if (buffer !== null) this.replace(slots, "momentum", buffer);
    p.variable.assign(theta);
    theta.dispose();
  }
}

// ---------------------------------------------------------------------------
// construction from a config
// ---------------------------------------------------------------------------

/** An optimizer described as data (the `optimizer` field of a config). */
export type OptimizerSpec =
  | ({ kind: "adam" } & AdamOptions)
  | ({ kind: "adamw" } & Omit<AdamOptions, "decoupled">)
  | ({ kind: "sgd" } & SGDOptions);

/**
 * The optimizer that `spec` describes over `parameters`: `adam`, `adamw`
 * (Adam with `decoupled: true`) or `sgd`.
 */
export function createOptimizer(
  parameters: readonly Parameter[],
  spec: OptimizerSpec,
): Optimizer {
  switch (spec.kind) {
    case "adam":
      return new Adam(parameters, spec);
    case "adamw":
      return new Adam(parameters, { ...spec, decoupled: true });
    case "sgd":
      return new SGD(parameters, spec);
    default:
      throw new ConfigError(
        `createOptimizer: kind must be adam, adamw or sgd, got ${JSON.stringify((spec as { kind: unknown }).kind)}`,
      );
  }
}
