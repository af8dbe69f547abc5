// End-to-end tests of `mpcl train`, run as a user would run it on a tiny
// Cora config (3 epochs): the JSON line (per-seed accuracies equal to the
// library trainer's, run here in-process; mean and population standard
// deviation recomputed), the report written by --out, the table, and the
// one-line error for a bad config.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../src/graph/datasets/index.js";
import { loadConfig } from "../../src/nn/config.js";
import {
  nodeClassificationData,
  trainNodeClassifier,
} from "../../src/nn/train.js";
import { lastJsonLine, runMpcl } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "mpcl-train-"));

/** What --json prints on its last line (the fields checked here). */
interface TrainJson {
  metric: string;
  unit: string;
  mean: number;
  std: number;
  runs: number[];
  seconds: number;
  name: string;
  seeds: number;
  details: { seed: number; testAcc: number; epochs: number }[];
}

/** Write a config file in the test folder and return its path. */
function configFile(name: string, body: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(body));
  return path;
}

const tiny = {
  task: "node-classification",
  dataset: { name: "cora" },
  model: { conv: "gcn", hidden: 4 },
  train: { epochs: 3 },
  seeds: 5,
  published: { mean: 81.5, source: "Kipf & Welling 2017" },
};

describe("mpcl train", () => {
  it("--json: per-seed accuracies of the library trainer, mean and std", () => {
    const path = configFile("tiny-gcn.json", tiny);
    const out = join(dir, "reports");
    const { stdout, stderr, status } = runMpcl([
      "train",
      "--config",
      path,
      "--seeds",
      "2",
      "--json",
      "--out",
      out,
    ]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    const report = lastJsonLine<TrainJson>(stdout);
    expect(report.metric).toBe("test_accuracy");
    expect(report.unit).toBe("%");
    expect(report.name).toBe("tiny-gcn");
    expect(report.seeds).toBe(2);
    expect(report.runs).toHaveLength(2);
    expect(report.details.map((d) => d.epochs)).toEqual([3, 3]);

    // the same runs in this process
    const config = loadConfig(path);
    const data = nodeClassificationData(loadDataset("cora"), config.dataset);
    const expected = [0, 1].map(
      (seed) =>
        Math.round(
          10000 * trainNodeClassifier(config, data, { seed }).testAcc,
        ) / 100,
    );
    expect(report.runs).toEqual(expected);
    const mean = (expected[0] + expected[1]) / 2;
    expect(report.mean).toBeCloseTo(mean, 2);
    expect(report.std).toBeCloseTo(Math.abs(expected[0] - expected[1]) / 2, 2);

    // --out holds the same numbers and every epoch of every seed
    const saved = JSON.parse(
      readFileSync(join(out, "tiny-gcn.json"), "utf8"),
    ) as TrainJson & { histories: unknown[][] };
    expect(saved.runs).toEqual(report.runs);
    expect(saved.histories.map((h) => h.length)).toEqual([3, 3]);
  });

  it("prints a table from --first-seed with the published number", () => {
    const path = configFile("tiny-table.json", tiny);
    const { stdout, status } = runMpcl([
      "train",
      "--config",
      path,
      "--seeds",
      "1",
      "--first-seed",
      "3",
      "--epochs",
      "1",
    ]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/seed\s+test %\s+val %\s+best epoch\s+epochs/);
    expect(stdout).toMatch(/^3\s+\d+\.\d\s+\d+\.\d\s+1\s+1\s/m);
    expect(stdout).toMatch(
      /test accuracy: \d+\.\d ± 0\.0 %\s+\(published 81\.5\)/,
    );
  });

  it("a bad config is one line naming the file and field, exit 1", () => {
    const path = configFile("bad-gat.json", {
      ...tiny,
      model: { conv: "gat", heads: -1 },
    });
    const { stdout, stderr, status } = runMpcl(["train", "--config", path]);
    expect(status).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trim()).toBe(
      "mpcl: ConfigError: bad-gat.json: model.heads: expected a positive integer, got -1",
    );
  });
});
