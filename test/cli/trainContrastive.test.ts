/**
 * `mpcl train` on a contrastive config, run as a user would: the last
 * line of standard output is the JSON report whose mean and standard
 * deviation are those of its per-seed linear-probe accuracies, with the
 * protocol attached; `--out` writes the report and one metrics log per
 * seed. A small run: optdigits (8 × 8 digits), an MLP 64 → 32, batches of
 * 1024, one epoch, two seeds.
 */

import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ContrastiveTrainReport } from "../../src/cli/trainContrastive.js";
import { lastJsonLine, runMpcl } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "mpcl-cli-contrastive-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mpcl train (contrastive)", () => {
  it("prints the JSON report last; --out writes report and metrics", () => {
    const config = join(dir, "digits.json");
    writeFileSync(
      config,
      JSON.stringify({
        task: "contrastive",
        name: "digits",
        dataset: { name: "optdigits" },
        encoder: { kind: "mlp", dims: [32] },
        projector: { output: 16 },
        objective: { name: "infonce", temperature: 0.5 },
        // pixels in [0, 1] (block counts / 16): noise of one count
        imageAugmentation: { noise: { std: 1 / 16 } },
        train: { epochs: 1, batchSize: 1024, lr: 0.001 },
      }),
    );
    const out = join(dir, "out");
    const run = runMpcl([
      "train",
      "--config",
      config,
      "--seeds",
      "2",
      "--json",
      "--out",
      out,
    ]);
    expect(run.status, run.stderr).toBe(0);
    const report = lastJsonLine<ContrastiveTrainReport>(run.stdout);
    expect(report.metric).toBe("linear_probe_test_accuracy");
    expect(report.seeds).toEqual([0, 1]);
    expect(report.runs).toHaveLength(2);
    const mean = (report.runs[0] + report.runs[1]) / 2;
    expect(Math.abs(report.mean - mean)).toBeLessThanOrEqual(0.006);
    expect(
      Math.abs(report.std - Math.abs(report.runs[0] - mean)),
    ).toBeLessThanOrEqual(0.006);
    // ten digit classes: far above chance after one epoch
    for (const r of report.runs) expect(r).toBeGreaterThan(50);
    expect(report.protocol?.kind).toBe("linear-probe");
    expect(report.protocol?.split.validation).toBe("holdout");
    expect(typeof report.seconds).toBe("number");

    const saved = JSON.parse(readFileSync(join(out, "digits.json"), "utf8"));
    expect(saved.runs).toEqual(report.runs);
    for (const s of [0, 1]) {
      const log = join(out, `digits.seed${s}.metrics.jsonl`);
      expect(existsSync(log)).toBe(true);
      const lines = readFileSync(log, "utf8").trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]).epoch).toBe(1);
    }
  }, 600_000);

  it("names the file and path of a bad contrastive config", () => {
    const config = join(dir, "bad.json");
    writeFileSync(
      config,
      JSON.stringify({
        task: "contrastive",
        dataset: { name: "cora" },
        objective: { name: "grace", temperature: 0 },
      }),
    );
    const run = runMpcl(["train", "--config", config, "--json"]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("bad.json: objective.temperature");
  }, 300_000);
});
