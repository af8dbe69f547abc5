/**
 * Optimizers against hand-written float64 references of the update rules
 * (Adam with coupled and decoupled decay, SGD with plain, heavy-ball and
 * Nesterov momentum), over several steps on seeded parameters and seeded
 * gradients; schedules against their closed forms; a resumed run against
 * the uninterrupted one (bit-for-bit); errors and tensor leaks.
 *
 * Tolerance: float32 tensors against float64 references, over 6 steps,
 * |θ − θ_ref| ≤ 1e-6 · max(|θ_ref|, 0.1). A wrong rule (a missing bias
 * correction, decay on an excluded parameter, a wrong momentum) moves θ
 * by at least lr · 1e-1 = 1e-3 in these cases.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import type { Parameter } from "../../src/nn/module.js";
import {
  Adam,
  createOptimizer,
  type LearningRateSchedule,
  learningRateAt,
  type Optimizer,
  SGD,
} from "../../src/nn/optim.js";
import { mulberry32, type Rng } from "../helpers/random.js";

const RTOL = 1e-6;
const FLOOR = 0.1;
const STEPS = 6;

/** Uniform values in (-1, 1), rounded to float32. */
function randomValues(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => Math.fround(2 * rng() - 1));
}

/** A variable holding `values` (its initial tensor freed). */
function variableOf(
  values: number[],
  shape: number[],
  name?: string,
): tf.Variable {
  const init = tf.tensor(values, shape);
  const v = tf.variable(init, true, name);
  init.dispose();
  return v;
}

/** Two parameters: one decayed, one with `decay: false`. */
function makeParameters(rng: Rng): {
  params: Parameter[];
  initial: number[][];
} {
  const shapes: [number, number][] = [
    [3, 4],
    [1, 5],
  ];
  const initial = shapes.map(([r, c]) => randomValues(rng, r * c));
  const params: Parameter[] = shapes.map(([r, c], i) => ({
    name: i === 0 ? "layer.weight" : "layer.bias",
    variable: variableOf(initial[i], [r, c]),
    decay: i === 0 ? undefined : false,
  }));
  return { params, initial };
}

/** A seeded gradient sequence: `grads[step][param]`. */
function makeGradients(rng: Rng, sizes: number[]): number[][][] {
  return Array.from({ length: STEPS }, () =>
    sizes.map((n) => randomValues(rng, n)),
  );
}

/** Run the optimizer over the gradient sequence; returns final values. */
function runTensor(
  opt: Optimizer,
  params: Parameter[],
  grads: number[][][],
  from = 0,
  to = grads.length,
): number[][] {
  for (let s = from; s < to; s++) {
    const map = new Map<string, tf.Tensor>();
    params.forEach((p, i) => {
      map.set(p.name, tf.tensor(grads[s][i], p.variable.shape));
    });
    opt.step(map);
    for (const g of map.values()) g.dispose();
  }
  return params.map((p) => Array.from(p.variable.dataSync()));
}

/** float64 Adam, written out per coordinate. */
function adamReference(
  initial: number[][],
  grads: number[][][],
  decayed: boolean[],
  o: {
    lr: number;
    b1: number;
    b2: number;
    eps: number;
    wd: number;
    decoupled: boolean;
  },
): number[][] {
  const theta = initial.map((a) => [...a]);
  const m = initial.map((a) => a.map(() => 0));
  const v = initial.map((a) => a.map(() => 0));
  grads.forEach((gs, s) => {
    const t = s + 1;
    theta.forEach((th, i) => {
      const wd = decayed[i] ? o.wd : 0;
      for (let j = 0; j < th.length; j++) {
        let g = gs[i][j];
        if (o.decoupled) th[j] -= o.lr * wd * th[j];
        else g += wd * th[j];
        m[i][j] = o.b1 * m[i][j] + (1 - o.b1) * g;
        v[i][j] = o.b2 * v[i][j] + (1 - o.b2) * g * g;
        const mh = m[i][j] / (1 - o.b1 ** t);
        const vh = v[i][j] / (1 - o.b2 ** t);
        th[j] -= (o.lr * mh) / (Math.sqrt(vh) + o.eps);
      }
    });
  });
  return theta;
}

/** float64 SGD with momentum. */
function sgdReference(
  initial: number[][],
  grads: number[][][],
  decayed: boolean[],
  o: { lr: number; mu: number; nesterov: boolean; wd: number },
): number[][] {
  const theta = initial.map((a) => [...a]);
  const buf = initial.map((a) => a.map(() => 0));
  for (const gs of grads) {
    theta.forEach((th, i) => {
      const wd = decayed[i] ? o.wd : 0;
      for (let j = 0; j < th.length; j++) {
        const g = gs[i][j] + wd * th[j];
        buf[i][j] = o.mu * buf[i][j] + g;
        const d = o.nesterov ? g + o.mu * buf[i][j] : buf[i][j];
        th[j] -= o.lr * d;
      }
    });
  }
  return theta;
}

function expectClose(actual: number[][], expected: number[][]): void {
  let worst = 0;
  actual.forEach((a, i) => {
    a.forEach((x, j) => {
      const e = expected[i][j];
      worst = Math.max(worst, Math.abs(x - e) / Math.max(Math.abs(e), FLOOR));
    });
  });
  expect(worst).toBeLessThanOrEqual(RTOL);
}

function disposeAll(params: Parameter[], opt?: Optimizer): void {
  opt?.dispose();
  for (const p of params) p.variable.dispose();
}

describe("Adam", () => {
  const cases = [
    { name: "no decay", wd: 0, decoupled: false },
    { name: "coupled L2", wd: 0.05, decoupled: false },
    { name: "decoupled (AdamW)", wd: 0.05, decoupled: true },
  ];
  for (const c of cases) {
    it(`matches the float64 reference over ${STEPS} steps: ${c.name}`, () => {
      const rng = mulberry32(11);
      const { params, initial } = makeParameters(rng);
      const grads = makeGradients(rng, [12, 5]);
      const o = {
        lr: 0.01,
        b1: 0.9,
        b2: 0.999,
        eps: 1e-8,
        wd: c.wd,
        decoupled: c.decoupled,
      };
      const opt = new Adam(params, {
        lr: o.lr,
        weightDecay: c.wd,
        decoupled: c.decoupled,
      });
      const got = runTensor(opt, params, grads);
      expectClose(got, adamReference(initial, grads, [true, false], o));

      // the excluded parameter would move differently with decay on it
      if (c.wd > 0) {
        const wrong = adamReference(initial, grads, [true, true], o);
        expect(Math.abs(got[1][0] - wrong[1][0])).toBeGreaterThan(1e-5);
      }
      disposeAll(params, opt);
    });
  }

  it("takes non-default betas and epsilon", () => {
    const rng = mulberry32(12);
    const { params, initial } = makeParameters(rng);
    const grads = makeGradients(rng, [12, 5]);
    const opt = new Adam(params, {
      lr: 0.02,
      beta1: 0.5,
      beta2: 0.9,
      epsilon: 1e-3,
    });
    const got = runTensor(opt, params, grads);
    const ref = adamReference(initial, grads, [true, false], {
      lr: 0.02,
      b1: 0.5,
      b2: 0.9,
      eps: 1e-3,
      wd: 0,
      decoupled: false,
    });
    expectClose(got, ref);
    disposeAll(params, opt);
  });

  it("follows a schedule: step t uses learningRateAt(lr, schedule, t)", () => {
    const rng = mulberry32(13);
    const { params, initial } = makeParameters(rng);
    const grads = makeGradients(rng, [12, 5]);
    const schedule: LearningRateSchedule = { kind: "step", stepSize: 2 };
    const opt = new Adam(params, { lr: 0.05, schedule });

    // reference: Adam's step is linear in lr, so run it step by step
    const theta = initial.map((a) => [...a]);
    const m = initial.map((a) => a.map(() => 0));
    const v = initial.map((a) => a.map(() => 0));
    grads.forEach((gs, s) => {
      const lr = learningRateAt(0.05, schedule, s);
      theta.forEach((th, i) => {
        for (let j = 0; j < th.length; j++) {
          const g = gs[i][j];
          m[i][j] = 0.9 * m[i][j] + 0.1 * g;
          v[i][j] = 0.999 * v[i][j] + 0.001 * g * g;
          const mh = m[i][j] / (1 - 0.9 ** (s + 1));
          const vh = v[i][j] / (1 - 0.999 ** (s + 1));
          th[j] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
        }
      });
    });
    expectClose(runTensor(opt, params, grads), theta);
    disposeAll(params, opt);
  });
});

describe("SGD", () => {
  const cases = [
    { name: "plain", mu: 0, nesterov: false, wd: 0 },
    { name: "momentum + L2", mu: 0.9, nesterov: false, wd: 0.05 },
    { name: "Nesterov + L2", mu: 0.9, nesterov: true, wd: 0.05 },
  ];
  for (const c of cases) {
    it(`matches the float64 reference over ${STEPS} steps: ${c.name}`, () => {
      const rng = mulberry32(21);
      const { params, initial } = makeParameters(rng);
      const grads = makeGradients(rng, [12, 5]);
      const opt = new SGD(params, {
        lr: 0.1,
        momentum: c.mu,
        nesterov: c.nesterov,
        weightDecay: c.wd,
      });
      const got = runTensor(opt, params, grads);
      const ref = sgdReference(initial, grads, [true, false], {
        lr: 0.1,
        ...c,
      });
      expectClose(got, ref);
      disposeAll(params, opt);
    });
  }
});

describe("learning-rate schedules", () => {
  it("constant", () => {
    for (const t of [0, 1, 100]) {
      expect(learningRateAt(0.3, { kind: "constant" }, t)).toBe(0.3);
    }
  });

  it("step decay: lr · gamma^floor(t / stepSize)", () => {
    const s: LearningRateSchedule = { kind: "step", stepSize: 3, gamma: 0.5 };
    const expected = [1, 1, 1, 0.5, 0.5, 0.5, 0.25];
    expected.forEach((e, t) => {
      expect(learningRateAt(1, s, t)).toBeCloseTo(e, 15);
    });
  });

  it("cosine with warm-up: linear ramp, half-cosine, then the floor", () => {
    const s: LearningRateSchedule = {
      kind: "cosine",
      warmupSteps: 4,
      totalSteps: 14,
      minLr: 0.1,
    };
    const lr = 1;

    // warm-up: (t + 1) / 4
    expect(learningRateAt(lr, s, 0)).toBeCloseTo(0.25, 15);
    expect(learningRateAt(lr, s, 3)).toBeCloseTo(1, 15);

    // decay: p = (t − 4) / 10; at p = 0 the full rate, at p = 1/2 the
    // midpoint (1 + 0.1) / 2, at p = 1 and after it the floor
    expect(learningRateAt(lr, s, 4)).toBeCloseTo(1, 15);
    expect(learningRateAt(lr, s, 9)).toBeCloseTo(0.55, 15);
    const p = 0.3;
    expect(learningRateAt(lr, s, 7)).toBeCloseTo(
      0.1 + (0.9 * (1 + Math.cos(Math.PI * p))) / 2,
      15,
    );
    expect(learningRateAt(lr, s, 14)).toBeCloseTo(0.1, 15);
    expect(learningRateAt(lr, s, 50)).toBeCloseTo(0.1, 15);
  });

  it("cosine without warm-up starts at the full rate", () => {
    const s: LearningRateSchedule = { kind: "cosine", totalSteps: 10 };
    expect(learningRateAt(2, s, 0)).toBe(2);
    expect(learningRateAt(2, s, 10)).toBeCloseTo(0, 15);
  });

  it("the optimizer reports the rate of its next step", () => {
    const p: Parameter = {
      name: "w",
      variable: variableOf([0, 0, 0, 0], [2, 2]),
    };
    const s: LearningRateSchedule = { kind: "step", stepSize: 1, gamma: 0.5 };
    const opt = new SGD([p], { lr: 1, schedule: s });
    expect(opt.learningRate).toBe(1);
    const g = tf.ones([2, 2]);
    opt.step(new Map([["w", g]]));
    expect(opt.learningRate).toBe(0.5);
    expect(opt.steps).toBe(1);
    g.dispose();
    disposeAll([p], opt);
  });
});

describe("state export and resume", () => {
  const kinds: { name: string; make: (p: Parameter[]) => Optimizer }[] = [
    {
      name: "adam",
      make: (p) =>
        new Adam(p, {
          lr: 0.01,
          weightDecay: 0.01,
          schedule: { kind: "cosine", warmupSteps: 2, totalSteps: 6 },
        }),
    },
    {
      name: "sgd",
      make: (p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true }),
    },
  ];
  for (const k of kinds) {
    it(`${k.name}: a resumed run equals the uninterrupted one bit for bit`, () => {
      const rng = mulberry32(31);
      const { params, initial } = makeParameters(rng);
      const grads = makeGradients(rng, [12, 5]);

      // uninterrupted
      const optA = k.make(params);
      const full = runTensor(optA, params, grads);
      disposeAll(params, optA);

      // interrupted after 3 steps: parameters and state saved as data
      const fresh = () =>
        params.map((p, i) => ({
          ...p,
          variable: variableOf(initial[i], p.variable.shape),
        }));
      const first = fresh();
      const optB = k.make(first);
      const half = runTensor(optB, first, grads, 0, 3);
      const saved = optB.state();
      disposeAll(first, optB);
      expect(saved.step).toBe(3);

      const second = first.map((p, i) => ({
        ...p,
        variable: variableOf(half[i], p.variable.shape),
      }));
      const optC = k.make(second);
      optC.loadState(saved);
      const resumed = runTensor(optC, second, grads, 3, STEPS);
      disposeAll(second, optC);

      resumed.forEach((a, i) => {
        expect(new Float32Array(a)).toEqual(new Float32Array(full[i]));
      });
    });
  }

  it("rejects a state of another optimizer or a wrong shape", () => {
    const rng = mulberry32(32);
    const { params } = makeParameters(rng);
    const adam = new Adam(params);
    const sgd = new SGD(params, { momentum: 0.5 });
    const g = params.map((p) => tf.onesLike(p.variable));
    adam.step(new Map(params.map((p, i) => [p.name, g[i]])));
    const state = adam.state();
    expect(() => sgd.loadState(state)).toThrow(ConfigError);
    const bad = {
      ...state,
      slots: {
        ...state.slots,
        "layer.bias": { m: new Float32Array(2), v: new Float32Array(2) },
      },
    };
    expect(() => adam.loadState(bad)).toThrow(ShapeError);
    expect(() =>
      adam.loadState({ ...state, slots: { other: state.slots["layer.bias"] } }),
    ).toThrow(ConfigError);
    for (const t of g) t.dispose();
    sgd.dispose();
    disposeAll(params, adam);
  });
});

describe("errors and memory", () => {
  it("rejects bad options with ConfigError", () => {
    const p: Parameter[] = [{ name: "w", variable: variableOf([0], [1, 1]) }];
    expect(() => new Adam(p, { lr: -1 })).toThrow(ConfigError);
    expect(() => new Adam(p, { beta1: 1 })).toThrow(ConfigError);
    expect(() => new Adam(p, { weightDecay: Number.NaN })).toThrow(ConfigError);
    expect(() => new SGD(p, { momentum: 1.5 })).toThrow(ConfigError);
    expect(() => new SGD(p, { nesterov: true })).toThrow(ConfigError);
    expect(
      () => new SGD(p, { schedule: { kind: "step", stepSize: 0 } }),
    ).toThrow(ConfigError);
    expect(
      () =>
        new SGD(p, {
          schedule: { kind: "cosine", totalSteps: 5, warmupSteps: 9 },
        }),
    ).toThrow(ConfigError);
    expect(() => new SGD([p[0], p[0]])).toThrow(ConfigError);
    expect(() =>
      createOptimizer(p, { kind: "lbfgs" } as unknown as { kind: "sgd" }),
    ).toThrow(ConfigError);
    disposeAll(p);
  });

  it("rejects a gradient of the wrong shape with ShapeError", () => {
    const p: Parameter[] = [
      { name: "w", variable: variableOf([0, 0, 0, 0, 0, 0], [2, 3]) },
    ];
    const opt = new Adam(p);
    const g = tf.zeros([3, 2]);
    expect(() => opt.step(new Map([["w", g]]))).toThrow(ShapeError);
    g.dispose();
    disposeAll(p, opt);
  });

  it("finds gradients by variable name (tf.variableGrads' keys)", () => {
    const p: Parameter[] = [
      {
        name: "w",
        variable: variableOf([1, 1, 1, 1], [2, 2], "optim.test.wvar"),
      },
    ];
    const opt = createOptimizer(p, { kind: "sgd", lr: 0.5 });
    const { value, grads } = tf.variableGrads(() => tf.sum(p[0].variable));
    opt.step(grads);
    expect(Array.from(p[0].variable.dataSync())).toEqual([0.5, 0.5, 0.5, 0.5]);
    value.dispose();
    tf.dispose(grads);
    disposeAll(p, opt);
  });

  it("keeps the number of tensors constant across steps", () => {
    const rng = mulberry32(41);
    const { params } = makeParameters(rng);
    const grads = makeGradients(rng, [12, 5]);
    const opts = [
      new Adam(params, { weightDecay: 0.1 }),
      new Adam(params, { weightDecay: 0.1, decoupled: true }),
      new SGD(params, { momentum: 0.9, weightDecay: 0.1 }),
      new SGD(params),
    ];
    for (const opt of opts) {
      runTensor(opt, params, grads, 0, 1);
      const before = tf.memory().numTensors;
      runTensor(opt, params, grads, 1, STEPS);
      expect(tf.memory().numTensors).toBe(before);
      opt.state();
      expect(tf.memory().numTensors).toBe(before);
    }
    const withSlots = tf.memory().numTensors;
    for (const opt of opts) opt.dispose();
    // Adam keeps m and v, momentum SGD one buffer, per parameter
    expect(withSlots - tf.memory().numTensors).toBe(2 * (2 + 2 + 1));
    disposeAll(params);
  });
});
