/**
 * The contrastive trainer on a small seeded graph (three planted classes
 * of 20 nodes, class-dependent features, denser edges inside classes):
 * exact resume (6 epochs = 3, checkpoint, 3 more, bit for bit, with and
 * without the memory bank), the first step against a step written out by
 * hand (network, views of epoch 1, gradient, Adam), the "update" and
 * "loss" paths giving the same SGD step, NaN detection that names epoch
 * and step and leaves the last checkpoint as it was, the JSON-lines
 * metrics log, periodic evaluation, tensor leaks, and that training
 * helps the linear probe on the planted classes.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import {
  CHECKPOINT_FILE,
  loadCheckpoint,
} from "../../src/contrastive/checkpoint.js";
import {
  type ContrastiveConfigInput,
  parseContrastiveConfig,
} from "../../src/contrastive/config.js";
import { createObjective } from "../../src/contrastive/objectives.js";
import { contrastiveGradients } from "../../src/contrastive/step.js";
import {
  buildContrastiveNetwork,
  type ContrastiveGraphData,
  epochRandom,
  trainContrastive,
} from "../../src/contrastive/trainer.js";
import { graphView } from "../../src/contrastive/views/graph.js";
import { NumericalError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { Adam } from "../../src/nn/optim.js";
import { mulberry32, randomNormal } from "../../src/random.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "mpcl-trainer-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Three planted classes of 20 nodes, 12 features. */
function plantedGraph(seed: number, poison = false): ContrastiveGraphData {
  const random = mulberry32(seed);
  const perClass = 20;
  const classes = 3;
  const n = perClass * classes;
  const d = 12;
  const labels = Int32Array.from({ length: n }, (_, i) =>
    Math.floor(i / perClass),
  );
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      const signal = c % classes === labels[i] ? 1.5 : 0;
      x[i * d + c] = signal + randomNormal(random);
    }
  }
  if (poison) x[5] = Number.NaN;
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const p = labels[i] === labels[j] ? 0.25 : 0.02;
      if (random() < p) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  const train: number[] = [];
  const val: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = i % perClass;
    (r < 4 ? train : r < 8 ? val : test).push(i);
  }
  return {
    kind: "graph",
    graph: Graph.fromEdges(src, dst, { numNodes: n }),
    features: tf.tensor2d(x, [n, d]),
    labels,
    numClasses: classes,
    split: {
      train: Int32Array.from(train),
      val: Int32Array.from(val),
      test: Int32Array.from(test),
    },
    splitName: "planted",
  };
}

function config(overrides: Partial<ContrastiveConfigInput> = {}) {
  return parseContrastiveConfig({
    task: "contrastive",
    name: "planted",
    dataset: { name: "cora" },
    encoder: { kind: "gnn", hidden: 16, output: 8 },
    projector: { output: 8, activation: "elu" },
    views: [
      { dropEdge: 0.2, maskFeatures: 0.2 },
      { dropEdge: 0.3, maskFeatures: 0.3 },
    ],
    objective: { name: "grace", temperature: 0.5 },
    train: { epochs: 6, lr: 0.01, lossEvery: 2 },
    ...overrides,
  });
}

const data = plantedGraph(1);

/** The bits of every tensor of a checkpoint, by name. */
function checkpointBits(dir: string): Map<string, Uint32Array> {
  const ckpt = loadCheckpoint(dir);
  if (ckpt === null) throw new Error("no checkpoint");
  const out = new Map<string, Uint32Array>();
  for (const [name, t] of Object.entries(ckpt.tensors)) {
    out.set(name, new Uint32Array(t.values.buffer.slice(0)));
  }
  for (const [p, slots] of Object.entries(ckpt.optimizer.slots)) {
    for (const [s, v] of Object.entries(slots)) {
      out.set(`slot.${p}.${s}`, new Uint32Array(v.buffer.slice(0)));
    }
  }
  if (ckpt.memory !== null) {
    out.set("memory", new Uint32Array(ckpt.memory.values.buffer.slice(0)));
  }
  return out;
}

function expectSameBits(
  a: Map<string, Uint32Array>,
  b: Map<string, Uint32Array>,
) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, bits] of a) {
    const other = b.get(name) as Uint32Array;
    let differ = 0;
    for (let i = 0; i < bits.length; i++) if (bits[i] !== other[i]) differ++;
    expect(differ, name).toBe(0);
  }
}

describe("trainContrastive: resume", () => {
  for (const [label, overrides] of [
    ["plain GRACE, Adam", {}],
    [
      "multi-stage memory, SGD with warm-up + cosine, attention",
      {
        train: {
          epochs: 6,
          optimizer: "sgd" as const,
          lr: 0.05,
          schedule: "cosine" as const,
          warmupEpochs: 2,
          lossEvery: 2,
        },
        tricks: {
          multiStage: { epochs: 2, mix: 0.5, warmupEpochs: 1 },
          attention: { temperature: 0.5 },
        },
      },
    ],
  ] as const) {
    it(`6 epochs = 3 + checkpoint + 3, bit for bit (${label})`, () => {
      const cfg = config(overrides as Partial<ContrastiveConfigInput>);
      const whole = tempDir();
      const split = tempDir();
      const metricsWhole = join(whole, "metrics.jsonl");
      const metricsSplit = join(split, "metrics.jsonl");
      const a = trainContrastive(cfg, data, {
        seed: 3,
        checkpointDir: whole,
        metricsPath: metricsWhole,
      });
      const b1 = trainContrastive(cfg, data, {
        seed: 3,
        checkpointDir: split,
        metricsPath: metricsSplit,
        untilEpoch: 3,
      });
      expect(b1.final).toBeNull();
      expect(loadCheckpoint(split)?.epoch).toBe(3);
      const b2 = trainContrastive(cfg, data, {
        seed: 3,
        checkpointDir: split,
        metricsPath: metricsSplit,
        resume: true,
      });
      expect(b2.resumedFrom).toBe(3);
      expect(b2.history.map((e) => e.epoch)).toEqual([4, 5, 6]);
      expectSameBits(checkpointBits(whole), checkpointBits(split));
      expect(b2.final?.testAccuracy).toBe(a.final?.testAccuracy);

      // the metrics logs agree line by line, timings aside
      const lines = (p: string) =>
        readFileSync(p, "utf8")
          .trim()
          .split("\n")
          .map((l) => ({ ...JSON.parse(l), seconds: 0 }));
      expect(lines(metricsSplit)).toEqual(lines(metricsWhole));
      expect(lines(metricsWhole).map((e) => e.epoch)).toEqual([
        1, 2, 3, 4, 5, 6,
      ]);
      expect(lines(metricsWhole)[1].loss).not.toBeNull();
      expect(lines(metricsWhole)[0].loss).toBeNull();
    });
  }
});

describe("trainContrastive: the step", () => {
  it("epoch 1 equals the step written out by hand (views, gradient, Adam)", () => {
    const cfg = config({ train: { epochs: 1, lr: 0.01 } });
    const dir = tempDir();
    trainContrastive(cfg, data, { seed: 5, checkpointDir: dir });

    // the same step by hand
    const network = buildContrastiveNetwork(cfg, data, 5);
    const random = epochRandom(5, 1);
    const views = cfg.views.map((spec) => {
      const v = graphView(data.graph, data.features, spec, random);
      return { x: v.x, graph: v.graph };
    });
    const result = contrastiveGradients(
      network,
      { views },
      createObjective({ name: "grace", temperature: 0.5 }),
      { random },
    );
    const adam = new Adam(network.parameters(), {
      lr: 0.01,
      weightDecay: 1e-5,
    });
    adam.step(result.gradients);
    const ckpt = loadCheckpoint(dir);
    let worst = 0;
    for (const p of network.parameters()) {
      const mine = p.variable.dataSync();
      const theirs = ckpt?.tensors[`online.${p.name}`].values as Float32Array;
      for (let i = 0; i < mine.length; i++) {
        worst = Math.max(worst, Math.abs(mine[i] - theirs[i]));
      }
    }
    expect(worst).toBe(0);
    tf.dispose([...result.gradients.values()]);
    for (const v of views) (v.x as tf.Tensor).dispose();
    adam.dispose();
    network.dispose();
  });

  it('the "update" and "loss" paths take the same SGD step (rel. 1e-5)', () => {
    const run = (path: "update" | "loss") => {
      const dir = tempDir();
      trainContrastive(
        config({
          train: { epochs: 1, optimizer: "sgd", lr: 1, momentum: 0, path },
        }),
        data,
        { seed: 2, checkpointDir: dir },
      );
      return loadCheckpoint(dir)?.tensors ?? {};
    };
    const initial = (() => {
      const network = buildContrastiveNetwork(config(), data, 2);
      const out = new Map(
        network
          .parameters()
          .map((p) => [`online.${p.name}`, p.variable.dataSync().slice()]),
      );
      network.dispose();
      return out;
    })();
    const u = run("update");
    const l = run("loss");
    let num = 0;
    let den = 0;
    for (const [name, start] of initial) {
      const a = u[name].values;
      const b = l[name].values;
      for (let i = 0; i < start.length; i++) {
        // with lr 1 and no decay the update is the negative gradient
        num += (a[i] - start[i] - (b[i] - start[i])) ** 2;
        den += (b[i] - start[i]) ** 2;
      }
    }
    expect(den).toBeGreaterThan(0);
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
  });

  it("training helps the linear probe on planted classes", () => {
    const cfg = config({ train: { epochs: 30, lr: 0.01 }, eval: { every: 0 } });
    const untrained = trainContrastive(
      config({ train: { epochs: 1, lr: 1e-12 } }),
      data,
      { seed: 0 },
    );
    const trained = trainContrastive(cfg, data, { seed: 0 });
    const u = untrained.final?.testAccuracy ?? 1;
    const t = trained.final?.testAccuracy ?? 0;
    // 36 test nodes: planted classes are found far above chance (1/3)
    expect(t).toBeGreaterThanOrEqual(0.8);
    expect(t).toBeGreaterThanOrEqual(u);
    expect(trained.final?.protocol.kind).toBe("linear-probe");
    expect(trained.final?.protocol.split.name).toBe("planted");
  });
});

describe("trainContrastive: errors, events, leaks", () => {
  it("stops with NumericalError naming epoch and step; the checkpoint stays", () => {
    const dir = tempDir();
    const cfg = config({ train: { epochs: 4, lr: 0.01 } });
    trainContrastive(cfg, data, { seed: 1, checkpointDir: dir, untilEpoch: 2 });
    const before = readFileSync(join(dir, CHECKPOINT_FILE));
    const poisoned = plantedGraph(1, true);
    let error: unknown = null;
    try {
      trainContrastive(cfg, poisoned, {
        seed: 1,
        checkpointDir: dir,
        resume: true,
        checkpointEvery: 1,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NumericalError);
    expect(String((error as Error).message)).toMatch(/epoch 3, step 3/);
    expect(readFileSync(join(dir, CHECKPOINT_FILE)).equals(before)).toBe(true);
  });

  it("reports every epoch, evaluates every k epochs, leaks no tensor", () => {
    const cfg = config({
      train: { epochs: 4, lr: 0.01 },
      eval: { every: 2, knn: 3 },
    });
    const events: number[] = [];
    const before = tf.memory().numTensors;
    const r = trainContrastive(cfg, data, {
      seed: 0,
      onEpoch: (e) => events.push(e.epoch),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(events).toEqual([1, 2, 3, 4]);
    expect(r.evaluations.map((e) => e.epoch)).toEqual([2]);
    expect(r.history[1].evaluation?.testAccuracy).toBe(
      r.evaluations[0].testAccuracy,
    );
    expect(r.final?.epoch).toBe(4);
    expect(r.final?.knn?.protocol.kind).toBe("knn");
    for (const e of r.history) {
      expect(Number.isFinite(e.gradNorm) && e.gradNorm > 0).toBe(true);
      expect(e.lr).toBe(0.01);
    }
  });
});
