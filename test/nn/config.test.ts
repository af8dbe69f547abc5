/**
 * Experiment configs: paper defaults filled in per convolution and
 * dataset, explicit fields winning over defaults, every shipped config of
 * experiments/configs parsing, and ConfigError messages that name the
 * file, the JSON path, the expectation and the received value.
 */

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { loadConfig, parseConfig } from "../../src/nn/config.js";

const CONFIG_DIR = fileURLToPath(
  new URL("../../experiments/configs/", import.meta.url),
);

/** A minimal config for `conv` on `dataset`. */
function minimal(conv: string, dataset = "cora"): Record<string, unknown> {
  return {
    task: "node-classification",
    dataset: { name: dataset },
    model: { conv },
  };
}

/** The message of the ConfigError that `f` raises. */
function configMessage(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

describe("defaults from the papers", () => {
  it("GCN: Kipf & Welling's setup", () => {
    const c = parseConfig(minimal("gcn"), "x.json");
    expect(c.model).toMatchObject({
      layers: 2,
      hidden: 16,
      activation: "relu",
      dropout: 0.5,
      inputDropout: 0.5,
      attentionDropout: 0,
      norm: "none",
      jk: "none",
      dropEdge: 0,
    });
    expect(c.train).toMatchObject({
      epochs: 200,
      lr: 0.01,
      weightDecay: 5e-4,
      weightDecayOn: "first",
      stopOn: "val_loss",
      optimizer: "adam",
    });
    expect(c.dataset).toEqual({
      name: "cora",
      featureNorm: "row",
      sparseFeatures: true,
    });
    expect(c.seeds).toBe(10);
    expect(c.published).toBeNull();
    expect(c.name).toBe("x");
  });

  it("GAT: Veličković et al.'s setup, with PubMed's exceptions", () => {
    const cora = parseConfig(minimal("gat"));
    expect(cora.model).toMatchObject({
      hidden: 8,
      heads: 8,
      outHeads: 1,
      concat: true,
      activation: "elu",
      dropout: 0.6,
      inputDropout: 0.6,
      attentionDropout: 0.6,
    });
    expect(cora.train).toMatchObject({
      lr: 0.005,
      weightDecay: 5e-4,
      weightDecayOn: "all",
      patience: 100,
      stopOn: "both",
    });
    const pubmed = parseConfig(minimal("gat", "pubmed"));
    expect(pubmed.model.outHeads).toBe(8);
    expect(pubmed.train.lr).toBe(0.01);
    expect(pubmed.train.weightDecay).toBe(1e-3);
  });

  it("SGC and APPNP: their papers' K, α and rates", () => {
    const sgc = parseConfig(minimal("sgc"));
    expect(sgc.model).toMatchObject({ layers: 1, k: 2, dropout: 0 });
    expect(sgc.train.lr).toBe(0.2);
    const appnp = parseConfig(minimal("appnp"));
    expect(appnp.model).toMatchObject({ hidden: 64, k: 10, alpha: 0.1 });
    expect(appnp.train.weightDecay).toBe(5e-3);
  });

  it("explicit fields win; inputDropout follows an explicit dropout", () => {
    const c = parseConfig({
      ...minimal("gat", "pubmed"),
      model: { conv: "gat", dropout: 0.3, outHeads: 2 },
      train: { lr: 0.02, patience: 0 },
      seeds: 3,
      published: { mean: 79, source: "paper" },
    });
    expect(c.model.dropout).toBe(0.3);
    expect(c.model.inputDropout).toBe(0.3);
    expect(c.model.attentionDropout).toBe(0.6);
    expect(c.model.outHeads).toBe(2);
    expect(c.train.lr).toBe(0.02);
    expect(c.train.patience).toBe(0);
    expect(c.seeds).toBe(3);
    expect(c.published).toEqual({ mean: 79, std: null, source: "paper" });
  });

  it("every shipped node-classification config parses", () => {
    // contrastive configs share the folder; their own schema tests them
    const files = readdirSync(CONFIG_DIR).filter(
      (f) =>
        f.endsWith(".json") &&
        JSON.parse(readFileSync(join(CONFIG_DIR, f), "utf8")).task ===
          "node-classification",
    );
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const c = loadConfig(join(CONFIG_DIR, f));
      expect(c.name).toBe(f.replace(/\.json$/, ""));
      expect(c.published).not.toBeNull();
    }
  });
});

describe("errors", () => {
  it("names the file, the path, the expectation and the value", () => {
    const bad = { ...minimal("gat"), model: { conv: "gat", heads: -1 } };
    expect(configMessage(() => parseConfig(bad, "cora-gat.json"))).toBe(
      "cora-gat.json: model.heads: expected a positive integer, got -1",
    );
  });

  it("reports every bad field, one per line", () => {
    const bad = {
      ...minimal("gcn"),
      model: { conv: "gcnn", dropout: 1.5 },
      train: { stopOn: "loss" },
    };
    const lines = configMessage(() => parseConfig(bad, "f.json")).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^f\.json: model\.conv: expected one of "gcn"/);
    expect(lines[0]).toMatch(/got "gcnn"$/);
    expect(lines[1]).toBe(
      "f.json: model.dropout: expected a rate in [0, 1), got 1.5",
    );
    expect(lines[2]).toMatch(/^f\.json: train\.stopOn: expected one of/);
  });

  it("rejects unknown fields, unknown tasks and missing sections", () => {
    expect(
      configMessage(() =>
        parseConfig({ ...minimal("gcn"), model: { conv: "gcn", hiden: 3 } }),
      ),
    ).toBe('config: model: unknown field "hiden"');
    expect(
      configMessage(() => parseConfig({ ...minimal("gcn"), task: "x" })),
    ).toBe('config: task: expected one of "node-classification", got "x"');
    expect(
      configMessage(() =>
        parseConfig({ task: "node-classification", dataset: { name: "cora" } }),
      ),
    ).toBe("config: model: expected an object, got nothing");
    expect(configMessage(() => parseConfig(null))).toMatch(/^config: /);
  });

  it("checks rules across fields", () => {
    expect(
      configMessage(() =>
        parseConfig({ ...minimal("sgc"), model: { conv: "sgc", layers: 2 } }),
      ),
    ).toMatch(/model\.layers: SGC .* got 2$/);
    expect(
      configMessage(() =>
        parseConfig({
          ...minimal("gcn"),
          model: { conv: "gcn", layers: 1, jk: "cat" },
        }),
      ),
    ).toMatch(/model\.jk: .* got layers 1$/);
  });

  it("names the file for unreadable or malformed JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "mpcl-config-"));
    const path = join(dir, "broken.json");
    writeFileSync(path, "{ not json");
    expect(configMessage(() => loadConfig(path))).toMatch(
      /^broken\.json: not valid JSON/,
    );
    expect(configMessage(() => loadConfig(join(dir, "absent.json")))).toMatch(
      /^loadConfig: cannot read .*absent\.json/,
    );
  });
});
