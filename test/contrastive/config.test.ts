/**
 * The contrastive config schema: GRACE's defaults for graphs and
 * SimCLR-style defaults for images, the shipped Cora and CiteSeer
 * configs, and errors that name the file, the JSON path, the expectation
 * and the value received.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  loadContrastiveConfig,
  parseContrastiveConfig,
} from "../../src/contrastive/config.js";
import { ConfigError } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "mpcl-ccfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ConfigError message of `f`, or fail. */
function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseContrastiveConfig: defaults", () => {
  it("a minimal graph config is GRACE's recipe", () => {
    const c = parseContrastiveConfig(
      { task: "contrastive", dataset: { name: "cora" } },
      "mini.json",
    );
    expect(c.name).toBe("mini");
    expect(c.encoder).toEqual({
      kind: "gnn",
      conv: "gcn",
      layers: 2,
      hidden: 256,
      output: 128,
      activation: "relu",
      dropout: 0,
      heads: 8,
      norm: "none",
      normOptions: {},
      jk: "none",
    });
    expect(c.projector).toEqual({
      layers: 2,
      hidden: null,
      output: null,
      activation: "elu",
      batchNorm: false,
      init: "kaiming",
    });
    expect(c.predictor).toBeNull();
    expect(c.views).toEqual([
      { dropEdge: 0.2, maskFeatures: 0.3 },
      { dropEdge: 0.4, maskFeatures: 0.4 },
    ]);
    expect(c.objective).toEqual({ name: "grace", temperature: 0.5 });
    expect(c.train).toMatchObject({
      epochs: 200,
      optimizer: "adam",
      lr: 5e-4,
      weightDecay: 1e-5,
      schedule: "constant",
      batchSize: null,
      path: "update",
    });
    expect(c.tricks).toEqual({
      attention: null,
      multiStage: null,
      rewire: null,
    });
    expect(c.eval).toEqual({
      features: "encoder",
      normalize: "l2",
      every: 0,
      knn: null,
      probePatience: null,
    });
    expect(c.seeds).toBe(5);
    expect(c.imageAugmentation).toBeNull();
  });

  it("hidden defaults to twice the output; tricks take their defaults", () => {
    const c = parseContrastiveConfig({
      task: "contrastive",
      dataset: { name: "citeseer" },
      encoder: { kind: "gnn", output: 64, norm: "pairnorm", jk: "cat" },
      tricks: {
        attention: {},
        multiStage: {},
        rewire: { kind: "knn" },
      },
    });
    expect(c.encoder).toMatchObject({ hidden: 128, output: 64, jk: "cat" });
    expect(c.tricks).toEqual({
      attention: { temperature: 1, source: "hidden" },
      multiStage: { epochs: 1, mix: 0.5, warmupEpochs: 1 },
      rewire: {
        kind: "knn",
        k: 5,
        weight: 1,
        alpha: 0.15,
        resolution: 1,
        partners: 1,
      },
    });
  });

  it("image data default to an MLP, a BatchNorm projector and InfoNCE", () => {
    const c = parseContrastiveConfig({
      task: "contrastive",
      dataset: { name: "mnist" },
      train: { batchSize: 256 },
    });
    expect(c.encoder).toEqual({
      kind: "mlp",
      dims: [512, 512],
      batchNorm: true,
      activation: "relu",
    });
    expect(c.projector?.batchNorm).toBe(true);
    expect(c.projector?.init).toBe("kaiming");
    const glorot = parseContrastiveConfig({
      task: "contrastive",
      dataset: { name: "cora" },
      projector: { init: "glorot" },
    });
    expect(glorot.projector?.init).toBe("glorot");
    expect(() =>
      parseContrastiveConfig({
        task: "contrastive",
        dataset: { name: "cora" },
        projector: { init: "he" },
      }),
    ).toThrow(/projector\.init: expected one of "kaiming", "glorot"/);
    expect(c.objective.name).toBe("infonce");
    expect(c.imageAugmentation).not.toBeNull();
    expect(c.eval.probePatience).toBe(3);
    const full = parseContrastiveConfig({
      task: "contrastive",
      dataset: { name: "mnist" },
      eval: { probePatience: null },
    });
    expect(full.eval.probePatience).toBeNull();
  });
});

describe("parseContrastiveConfig: graph views", () => {
  it("passes directed edge dropping and diffusion views through", () => {
    const views = [
      { dropEdge: 0.2, maskFeatures: 0.3, symmetric: false },
      {
        dropEdge: 0.1,
        maskFeatures: 0,
        diffusion: { kernel: "ppr", alpha: 0.15, topK: 32 },
      },
    ];
    const c = parseContrastiveConfig({
      task: "contrastive",
      dataset: { name: "cora" },
      views,
    });
    expect(c.views).toEqual(views);
  });

  it("names a bad diffusion option by its path", () => {
    const m = messageOf(() =>
      parseContrastiveConfig(
        {
          task: "contrastive",
          dataset: { name: "cora" },
          views: [
            { dropEdge: 0, maskFeatures: 0 },
            { dropEdge: 0, maskFeatures: 0, diffusion: { kernel: "gauss" } },
          ],
        },
        "v.json",
      ),
    );
    expect(m).toMatch(
      /v\.json: views\[1\]\.diffusion\.kernel: expected one of "ppr", "heat".*got "gauss"/,
    );
    expect(
      messageOf(() =>
        parseContrastiveConfig({
          task: "contrastive",
          dataset: { name: "cora" },
          views: [{ dropEdge: 0, maskFeatures: 0, symmetric: "no" }],
        }),
      ),
    ).toContain("views[0].symmetric: expected true or false");
  });
});

describe("parseContrastiveConfig: errors", () => {
  it("names the file, the JSON path, the expectation and the value", () => {
    const m = messageOf(() =>
      parseContrastiveConfig(
        {
          task: "contrastive",
          dataset: { name: "cora" },
          objective: { name: "grace", temperature: -1 },
          views: [{ dropEdge: 1.5, maskFeatures: 0 }],
        },
        "bad.json",
      ),
    );
    expect(m).toContain(
      "bad.json: objective.temperature: expected a positive finite number, got -1",
    );
    expect(m).toContain(
      "bad.json: views[0].dropEdge: expected a number in [0, 1], got 1.5",
    );
  });

  it("unknown fields, datasets and encoder kinds", () => {
    expect(
      messageOf(() =>
        parseContrastiveConfig(
          { task: "contrastive", dataset: { name: "cora" }, epochs: 3 },
          "x.json",
        ),
      ),
    ).toContain('x.json: (top level): unknown field "epochs"');
    expect(
      messageOf(() =>
        parseContrastiveConfig({
          task: "contrastive",
          dataset: { name: "imagenet" },
        }),
      ),
    ).toMatch(/dataset\.name: expected one of .*got "imagenet"/);
    expect(
      messageOf(() =>
        parseContrastiveConfig({
          task: "contrastive",
          dataset: { name: "cora" },
          encoder: { kind: "transformer" },
        }),
      ),
    ).toContain("encoder");
  });

  it("cross-field rules", () => {
    const base = { task: "contrastive", dataset: { name: "cora" } };
    expect(
      messageOf(() =>
        parseContrastiveConfig({
          ...base,
          encoder: { kind: "mlp", dims: [8] },
        }),
      ),
    ).toContain('encoder.kind: a graph dataset needs a "gnn" encoder');
    expect(
      messageOf(() =>
        parseContrastiveConfig({
          task: "contrastive",
          dataset: { name: "mnist" },
          encoder: { kind: "gnn" },
        }),
      ),
    ).toContain("encoder.kind");
    expect(
      messageOf(() =>
        parseContrastiveConfig({ ...base, objective: { name: "byol" } }),
      ),
    ).toContain('targets: objective byol needs targets "self" or "ema"');
    expect(
      messageOf(() => parseContrastiveConfig({ ...base, targets: "self" })),
    ).toContain("predictor");
    expect(
      messageOf(() =>
        parseContrastiveConfig({ ...base, train: { warmupEpochs: 5 } }),
      ),
    ).toContain("train.warmupEpochs");
    expect(
      messageOf(() =>
        parseContrastiveConfig({ ...base, train: { batchSize: 64 } }),
      ),
    ).toContain("train.batchSize");
    expect(
      messageOf(() =>
        parseContrastiveConfig({
          task: "contrastive",
          dataset: { name: "mnist" },
          tricks: { rewire: { kind: "diffusion" } },
        }),
      ),
    ).toContain("tricks.rewire.kind");
  });
});

describe("loadContrastiveConfig", () => {
  it("reads the shipped Cora and CiteSeer configs", () => {
    const cora = loadContrastiveConfig("experiments/configs/cora-grace.json");
    expect(cora.name).toBe("cora-grace");
    expect(cora.objective.temperature).toBe(0.4);
    expect(cora.encoder).toMatchObject({ hidden: 256, output: 128 });
    const citeseer = loadContrastiveConfig(
      "experiments/configs/citeseer-grace.json",
    );
    expect(citeseer.dataset.name).toBe("citeseer");
    expect(citeseer.published.map((p) => p.method)).toEqual(["GRACE", "DGI"]);
  });

  it("names the file when it is missing or not JSON", () => {
    expect(
      messageOf(() => loadContrastiveConfig(join(dir, "none.json"))),
    ).toContain("cannot read");
    const path = join(dir, "broken.json");
    writeFileSync(path, "{ nope");
    expect(messageOf(() => loadContrastiveConfig(path))).toMatch(
      /^broken\.json: not valid JSON/,
    );
  });
});
