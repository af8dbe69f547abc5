// Tests of the multi-stage study (experiments/multistage.ts) and of
// `mpcl multistage`: predictor-free SimSiam configs, the random encoder
// (0 epochs) and its collapse diagnostic against a float64 computation
// written out here, the summaries against hand computations, the option
// parsing, and one small end-to-end run of the command.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_MULTISTAGE_PROTOCOL,
  type MultistageProtocol,
  type MultistageResult,
  type MultistageRun,
  multistageConfig,
  multistageProtocolKey,
  summarizeMultistage,
} from "../../experiments/multistage.js";
import { multistageProtocolFromOptions } from "../../src/cli/multistage.js";
import { parseContrastiveConfig } from "../../src/contrastive/config.js";
import {
  buildContrastiveNetwork,
  type ContrastiveImageData,
  embed,
  trainContrastive,
} from "../../src/contrastive/trainer.js";
import { ConfigError } from "../../src/errors.js";
import { lastJsonLine, runMpcl } from "../helpers/cli.js";
import { mulberry32 } from "../helpers/random.js";

const dir = mkdtempSync(join(tmpdir(), "mpcl-multistage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 120 training and 60 test "images" of 4 × 4 pixels in 3 classes. */
function tinyImages(seed: number): ContrastiveImageData {
  const rng = mulberry32(seed);
  const n = 180;
  const d = 16;
  const labels = new Int32Array(n);
  const images = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let j = 0; j < d; j++) {
      images[i * d + j] = (j % 3 === labels[i] ? 0.6 : 0.1) + 0.2 * rng();
    }
  }
  return {
    kind: "image",
    images,
    height: 4,
    width: 4,
    channels: 1,
    numTrain: 120,
    labels,
    numClasses: 3,
    splitName: "tiny",
  };
}

/** A tiny protocol on the tiny images: widths 8, 3 epochs of 2 steps. */
function tinyProtocol(): MultistageProtocol {
  const p = structuredClone({ ...DEFAULT_MULTISTAGE_PROTOCOL });
  p.epochs = 3;
  p.seeds = 2;
  p.stages = [0, 2];
  p.base = {
    ...p.base,
    encoder: { kind: "mlp", dims: [8], batchNorm: false, activation: "relu" },
    projector: { layers: 2, hidden: 8, output: 4, batchNorm: false },
    train: { ...p.base.train, batchSize: 60 },
    imageAugmentation: { noise: { std: 0.1 } },
  };
  return p;
}

describe("predictor-free SimSiam configs", () => {
  const base = {
    task: "contrastive",
    dataset: { name: "optdigits" },
    objective: { name: "simsiam" },
    targets: "self",
  };

  it("accept an explicit null predictor, refuse an omitted one", () => {
    const c = parseContrastiveConfig({ ...base, predictor: null });
    expect(c.predictor).toBeNull();
    expect(c.targets).toBe("self");
    expect(() => parseContrastiveConfig(base)).toThrow(ConfigError);
    expect(() => parseContrastiveConfig(base)).toThrow(/predictor/);
    // BYOL's EMA targets still need the predictor
    expect(() =>
      parseContrastiveConfig({
        ...base,
        objective: { name: "byol" },
        targets: "ema",
        predictor: null,
      }),
    ).toThrow(ConfigError);
  });

  it("builds the stage configs: no memory at r = 0, r epochs else", () => {
    const p = tinyProtocol();
    expect(multistageConfig(p, 0).tricks.multiStage).toBeNull();
    expect(multistageConfig(p, 2).tricks.multiStage).toEqual({
      epochs: 2,
      mix: p.mix,
      warmupEpochs: p.warmupEpochs,
    });
    expect(multistageConfig(p, 2).train.epochs).toBe(3);
    expect(multistageConfig(p, 2).predictor).toBeNull();
  });
});

describe("the random encoder and the collapse diagnostic", () => {
  it("0 epochs evaluates the initial network; the std matches float64", () => {
    const data = tinyImages(1);
    const config = multistageConfig(tinyProtocol(), 0);
    const run = trainContrastive(config, data, { seed: 3, epochs: 0 });
    expect(run.history).toHaveLength(0);
    expect(run.final?.epoch).toBe(0);

    // the same initial network, embedded here, its std written out
    const network = buildContrastiveNetwork(config, data, 3);
    const std = (features: "encoder" | "projector") => {
      const c = { ...config, eval: { ...config.eval, features } };
      const { values, dim } = embed(c, network, data);
      const n = values.length / dim;
      const rows: number[][] = [];
      for (let i = 0; i < n; i++) {
        const row = Array.from(values.subarray(i * dim, (i + 1) * dim));
        const norm = Math.hypot(...row);
        rows.push(row.map((x) => (norm > 0 ? x / norm : 0)));
      }
      let total = 0;
      for (let c2 = 0; c2 < dim; c2++) {
        const mean = rows.reduce((s, r) => s + r[c2], 0) / n;
        const v = rows.reduce((s, r) => s + (r[c2] - mean) ** 2, 0) / n;
        total += Math.sqrt(v);
      }
      return total / dim;
    };
    try {
      // float32 features, float64 sums both ways: agreement to 1e-6
      expect(run.final?.featureStd).toBeCloseTo(std("encoder"), 6);
      expect(run.final?.projectionStd).toBeCloseTo(std("projector"), 6);
      // a random encoder is spread: well above 0
      expect(run.final?.featureStd).toBeGreaterThan(0.01);
    } finally {
      network.dispose();
    }
  }, 20_000);
});

describe("the memory with batches that drop samples", () => {
  it("enters at epoch 2 although some samples have no memory yet", () => {
    // 120 samples in batches of 50: 20 left out of epoch 1, so almost
    // every batch of epoch 2 holds a sample without memory; its rows
    // keep the plain target, the others use the memory: r = 1 must
    // differ from r = 0 after 2 epochs (it did not when a whole batch
    // needed memory before any row used it)
    const data = tinyImages(2);
    const p = tinyProtocol();
    p.epochs = 2;
    p.base = { ...p.base, train: { ...p.base.train, batchSize: 50 } };
    const plain = trainContrastive(multistageConfig(p, 0), data, { seed: 1 });
    const memory = trainContrastive(multistageConfig(p, 1), data, {
      seed: 1,
    });
    expect(plain.final?.projectionStd).toBeGreaterThan(0);
    expect(memory.final?.projectionStd).not.toBe(plain.final?.projectionStd);
  }, 20_000);
});

describe("summaries and options", () => {
  const run = (
    stage: MultistageRun["stage"],
    seed: number,
    testAcc: number,
    featureStd: number,
  ): MultistageRun => ({
    stage,
    seed,
    testAcc,
    valAcc: 0,
    chosenL2: 1,
    featureStd,
    projectionStd: null,
    loss: null,
    seconds: 1,
  });

  it("means and population stds per stage, Rand first", () => {
    const s = summarizeMultistage([
      run(2, 0, 50, 0.01),
      run(2, 1, 60, 0.03),
      run("rand", 0, 40, 0.02),
      run(0, 0, 10, 0.001),
    ]);
    expect(s.map((x) => x.stage)).toEqual(["rand", 0, 2]);
    // (50 + 60) / 2 = 55, population std |50 − 55| = 5
    expect(s[2].accMean).toBe(55);
    expect(s[2].accStd).toBe(5);
    expect(s[2].featureStd).toBeCloseTo(0.02, 12);
    expect(s[2].projectionStd).toBeNull();
    expect(s[0].accStd).toBe(0);
    // paired with r = 0: only seed 0 has both, 50 − 10 = 40
    expect(s[2].gain).toEqual({ mean: 40, std: 0, positive: 1, seeds: 1 });
    expect(s[0].gain).toBeNull();
    expect(s[1].gain).toBeNull();
  });

  it("the paired gain: mean, population std and positive seeds", () => {
    const s = summarizeMultistage([
      run(0, 0, 40, 0.01),
      run(0, 1, 50, 0.01),
      run(0, 2, 60, 0.01),
      run(3, 0, 43, 0.01),
      run(3, 1, 49, 0.01),
      run(3, 2, 65, 0.01),
    ]);
    // gains 3, −1, 5: mean 7/3, population std √(56/9) = 2.494
    expect(s[1].gain?.mean).toBeCloseTo(2.33, 2);
    expect(s[1].gain?.std).toBeCloseTo(2.49, 2);
    expect(s[1].gain?.positive).toBe(2);
    expect(s[1].gain?.seeds).toBe(3);
  });

  it("parses stage lists and ranges; rejects bad values by name", () => {
    expect(multistageProtocolFromOptions({ stages: "0-2,5" }).stages).toEqual([
      0, 1, 2, 5,
    ]);
    const p = multistageProtocolFromOptions({ width: "16", mix: "0.5" });
    expect(p.mix).toBe(0.5);
    expect(p.base.encoder).toMatchObject({ dims: [16, 16] });
    expect(p.base.projector).toMatchObject({ hidden: 16 });
    expect(() => multistageProtocolFromOptions({ stages: "3-1" })).toThrow(
      /--stages/,
    );
    expect(() => multistageProtocolFromOptions({ mix: "0" })).toThrow(/--mix/);
    expect(() => multistageProtocolFromOptions({ dataset: "cora" })).toThrow(
      /--dataset/,
    );
    // the protocol key ignores stages and seeds, not the settings
    const a = multistageProtocolFromOptions({ stages: "0", seeds: "1" });
    const b = multistageProtocolFromOptions({ stages: "4", seeds: "2" });
    expect(multistageProtocolKey(a)).toBe(multistageProtocolKey(b));
    expect(multistageProtocolKey(a)).not.toBe(
      multistageProtocolKey(multistageProtocolFromOptions({ epochs: "5" })),
    );
  });
});

describe("mpcl multistage", () => {
  it("writes json, md and the figure; --resume reuses the runs", () => {
    const out = join(dir, "out");
    const args = [
      "multistage",
      "--stages",
      "1",
      "--seeds",
      "1",
      "--epochs",
      "2",
      "--width",
      "8",
      "--out",
      out,
      "--json",
    ];
    const first = runMpcl(args, { MPCL_THREADS: "1" });
    expect(first.status, first.stderr).toBe(0);
    const printed = lastJsonLine<{
      metric: string;
      summary: MultistageResult["summary"];
      files: string[];
    }>(first.stdout);
    expect(printed.metric).toBe("linear_probe_test_accuracy");
    for (const ext of ["json", "md", "vl.json", "svg", "png"]) {
      expect(existsSync(join(out, `multistage.${ext}`))).toBe(true);
    }
    const saved = JSON.parse(
      readFileSync(join(out, "multistage.json"), "utf8"),
    ) as MultistageResult;
    expect(saved.runs.map((r) => r.stage)).toEqual(["rand", 1]);
    expect(saved.summary.map((s) => s.stage)).toEqual(["rand", 1]);
    for (const r of saved.runs) {
      // ten digit classes: accuracies are percentages, std in (0, 1)
      expect(r.testAcc).toBeGreaterThanOrEqual(0);
      expect(r.testAcc).toBeLessThanOrEqual(100);
      expect(r.featureStd).toBeGreaterThan(0);
      expect(r.featureStd).toBeLessThan(1);
    }
    // the random encoder's 8 features spread: ≥ 0.1 of 1/√8
    expect(saved.runs[0].featureStd).toBeGreaterThan(0.1 / Math.sqrt(8));
    expect(saved.featureStdReference).toBeCloseTo(1 / Math.sqrt(8), 12);
    expect(printed.summary).toEqual(saved.summary);
    const md = readFileSync(join(out, "multistage.md"), "utf8");
    expect(md).toContain("| Rand |");
    expect(md).toContain("multistage.svg");
    const spec = JSON.parse(
      readFileSync(join(out, "multistage.vl.json"), "utf8"),
    );
    expect(spec.data.values.map((v: { stage: string }) => v.stage)).toEqual([
      "Rand",
      "1",
    ]);

    // resumed: every run reused, so the same numbers and no training
    const second = runMpcl([...args, "--resume"], { MPCL_THREADS: "1" });
    expect(second.status, second.stderr).toBe(0);
    const again = JSON.parse(
      readFileSync(join(out, "multistage.json"), "utf8"),
    ) as MultistageResult;
    expect(again.runs).toEqual(saved.runs);
  }, 120_000);
});
