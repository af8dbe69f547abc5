// The report's contrastive comparison on a small seeded graph (two
// planted classes of 16 nodes, class-dependent features, denser edges
// inside classes): the tricks switched on by name without touching the
// base config, each variant's result equal to a direct trainContrastive
// run with the same seed and epochs, the periodic evaluations, the
// figure, and no tensor left behind.
import { describe, expect, it } from "vitest";
import {
  contrastiveFigure,
  runContrastiveVariants,
  withTrick,
} from "../../experiments/report/contrastive.js";
import { tf } from "../../src/backend.js";
import { parseContrastiveConfig } from "../../src/contrastive/config.js";
import {
  type ContrastiveGraphData,
  trainContrastive,
} from "../../src/contrastive/trainer.js";
import { ConfigError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { renderSpec } from "../../src/plot/render.js";
import { mulberry32, randomNormal } from "../../src/random.js";

/** Two planted classes of 16 nodes with 8 features. */
function plantedData(seed: number): ContrastiveGraphData {
  const random = mulberry32(seed);
  const n = 32;
  const d = 8;
  const labels = Int32Array.from({ length: n }, (_, i) => (i < 16 ? 0 : 1));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      x[i * d + c] = (c % 2 === labels[i] ? 1 : 0) + randomNormal(random);
    }
  }
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (random() < (labels[i] === labels[j] ? 0.3 : 0.03)) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  const part = (r: number) =>
    Int32Array.from({ length: n }, (_, i) => i).filter(
      (i) => i % 4 === r || (r === 3 && i % 4 === 2),
    );
  return {
    kind: "graph",
    graph: Graph.fromEdges(src, dst, { numNodes: n }),
    features: tf.tensor2d(x, [n, d]),
    labels,
    numClasses: 2,
    split: { train: part(0), val: part(1), test: part(3) },
    splitName: "planted",
  };
}

const config = parseContrastiveConfig({
  task: "contrastive",
  name: "planted",
  dataset: { name: "cora" },
  encoder: { kind: "gnn", hidden: 8, output: 4 },
  projector: { output: 4, activation: "elu" },
  views: [
    { dropEdge: 0.2, maskFeatures: 0.2 },
    { dropEdge: 0.3, maskFeatures: 0.3 },
  ],
  objective: { name: "grace", temperature: 0.5 },
  train: { epochs: 5, lr: 0.01 },
});

const data = plantedData(4);

describe("withTrick", () => {
  it("switches attentive alignment on, and nothing else", () => {
    const before = JSON.stringify(config);
    const v = withTrick(config, "attention");
    expect(v.name).toBe("attentive alignment");
    expect(v.config.tricks.attention).toEqual({
      temperature: 0.5,
      source: "hidden",
    });
    expect(v.config.tricks.rewire).toBeNull();
    expect({ ...v.config, tricks: config.tricks }).toEqual(config);
    expect(JSON.stringify(config)).toBe(before);
  });

  it("switches kNN extra positives on, and nothing else", () => {
    const v = withTrick(config, "knn");
    expect(v.name).toBe("kNN extra positives");
    expect(v.config.tricks.rewire).toMatchObject({
      kind: "knn",
      k: 5,
      weight: 1,
    });
    expect(v.config.tricks.attention).toBeNull();
    expect(config.tricks.rewire).toBeNull();
  });

  it("raises ConfigError for an unknown trick", () => {
    expect(() => withTrick(config, "dropout" as "knn")).toThrow(ConfigError);
  });
});

describe("runContrastiveVariants", () => {
  const variants = [
    { name: "base", description: "no trick", config },
    withTrick(config, "attention"),
  ];

  it("gives each variant the result of a direct run, without leaks", () => {
    const before = tf.memory().numTensors;
    const events: string[] = [];
    const results = runContrastiveVariants(variants, data, {
      epochs: 3,
      seed: 2,
      onEpoch: (name, event) => events.push(`${name} ${event.epoch}`),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(events).toEqual([
      "base 1",
      "base 2",
      "base 3",
      "attentive alignment 1",
      "attentive alignment 2",
      "attentive alignment 3",
    ]);

    results.forEach((r, i) => {
      const direct = trainContrastive(variants[i].config, data, {
        seed: 2,
        epochs: 3,
      });
      expect(r.name).toBe(variants[i].name);
      expect(r.epochs).toBe(3);
      expect(r.testAccuracy).toBe(direct.final?.testAccuracy);
      expect(r.valAccuracy).toBe(direct.final?.valAccuracy);
      expect(r.history.map((e) => e.gradNorm)).toEqual(
        direct.history.map((e) => e.gradNorm),
      );
      expect(r.evaluations).toEqual([
        { epoch: 3, testAccuracy: r.testAccuracy },
      ]);
      expect(r.seconds).toBeGreaterThan(0);
      expect(r.cpuSeconds).toBeGreaterThan(0);
    });
    // the trick changes the training
    expect(results[1].history[2].gradNorm).not.toBe(
      results[0].history[2].gradNorm,
    );
  });

  it("evaluates every k epochs when asked, the last one being final", () => {
    const [r] = runContrastiveVariants(variants.slice(0, 1), data, {
      epochs: 4,
      evaluateEvery: 2,
    });
    expect(r.evaluations.map((e) => e.epoch)).toEqual([2, 4]);
    expect(r.evaluations[1].testAccuracy).toBe(r.testAccuracy);
    for (const e of r.evaluations) {
      expect(e.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(e.testAccuracy).toBeLessThanOrEqual(1);
    }
  });

  it("draws accuracy and gradient-norm panels with every variant", async () => {
    const results = runContrastiveVariants(variants, data, { epochs: 2 });
    const figure = await renderSpec(contrastiveFigure(results, "planted"));
    expect(figure.svg).toContain("linear-probe test accuracy");
    expect(figure.svg).toContain("gradient norm");
    expect(figure.svg).toContain("attentive alignment");
    const json = JSON.stringify(contrastiveFigure(results, "planted"));
    for (const r of results) {
      for (const e of r.history) expect(json).toContain(String(e.gradNorm));
    }
  });
});
