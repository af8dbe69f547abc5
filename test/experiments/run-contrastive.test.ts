// The contrastive results runner (experiments/run-contrastive.ts) on small
// synthetic `mpcl train` reports: merging by seed, mean and population
// std against hand computations, "not run" rows, the ablation verdicts,
// and the atomic writes.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../experiments/run-contrastive.js";
import { ConfigError } from "../../src/errors.js";
import type { LinearProbeProtocol } from "../../src/eval/protocol.js";

const PROTOCOL: LinearProbeProtocol = {
  kind: "linear-probe",
  classifier: "logistic-lbfgs",
  normalization: "l2",
  grid: [1e-6, 1e-4, 1e-2],
  chosenL2: 1e-4,
  refit: "train",
  tolerance: 1e-6,
  maxIterations: 1000,
  pathPatience: null,
  split: {
    name: "cora-public",
    train: 140,
    val: 500,
    test: 1000,
    validation: "split",
  },
  seed: 0,
};

/** One seed of a synthetic report: accuracy, wall and CPU seconds. */
type Seed = [seed: number, acc: number, wall: number, cpu: number];

/** Write a report as `mpcl train --out` would (the fields read). */
function writeReport(
  dir: string,
  name: string,
  seeds: Seed[],
  published: object[] = [],
): void {
  mkdirSync(dir, { recursive: true });
  const report = {
    metric: "linear_probe_test_accuracy",
    unit: "%",
    mean: 0, // never read: the runner recomputes from the seeds
    std: 0,
    runs: seeds.map((s) => s[1]),
    seconds: 1,
    name,
    dataset: name.split("-")[0],
    seeds: seeds.map((s) => s[0]),
    protocol: PROTOCOL,
    published,
    details: seeds.map(([seed, testAcc, seconds, cpuSeconds]) => ({
      seed,
      testAcc,
      valAcc: 70,
      chosenL2: 1e-4,
      knnAcc: null,
      epochs: 10,
      seconds,
      cpuSeconds,
    })),
    config: { name, train: { epochs: 10, lossEvery: 5 } },
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(report));
}

let root: string;
let dirA: string;
let dirB: string;
let results: string;
const read = (name: string) => readFileSync(join(results, name), "utf8");

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "mpcl-run-contrastive-"));
  dirA = join(root, "a");
  dirB = join(root, "b");
  results = join(root, "results");

  // cora-grace: seeds 0-2 and a seed 4 that folder b replaces
  writeReport(
    dirA,
    "cora-grace",
    [
      [0, 80.0, 100, 50],
      [1, 78.0, 110, 55],
      [2, 82.0, 120, 60],
      [4, 50.0, 999, 999],
    ],
    [{ method: "GRACE", mean: 81.9, std: null, source: "re-run" }],
  );
  writeReport(dirB, "cora-grace", [
    [3, 81.0, 130, 65],
    [4, 79.0, 140, 70],
  ]);
  writeReport(dirA, "citeseer-grace", [
    [0, 70.0, 10, 5],
    [1, 71.0, 10, 5],
  ]);

  // the probe curve of citeseer-grace at epoch 25 (60 % and 62 %)
  for (const [seed, acc] of [
    [0, 0.6],
    [1, 0.62],
  ]) {
    writeFileSync(
      join(dirA, `citeseer-grace.seed${seed}.metrics.jsonl`),
      `${JSON.stringify({ epoch: 24, loss: 1 })}\n` +
        `${JSON.stringify({ epoch: 25, evaluation: { testAccuracy: acc, valAccuracy: 0.5 } })}\n`,
    );
  }

  // images: optdigits only, and a measured raw-pixel probe for MNIST
  writeReport(dirA, "optdigits-simclr", [
    [0, 98.0, 20, 10],
    [1, 97.0, 20, 10],
    [2, 99.0, 20, 10],
  ]);
  writeFileSync(join(dirB, "raw-pixels.json"), '{ "mnist": 84.3 }');

  // ablations
  writeReport(dirA, "optdigits-simclr-attention", [
    [0, 98.5, 20, 10],
    [1, 98.5, 20, 10],
    [2, 98.5, 20, 10],
  ]);
  writeReport(dirA, "optdigits-simsiam", [
    [0, 90.0, 20, 10],
    [1, 92.0, 20, 10],
  ]);
  writeReport(dirA, "optdigits-simsiam-multistage", [
    [0, 95.0, 20, 10],
    [1, 95.0, 20, 10],
  ]);
  writeReport(
    dirA,
    "cora-grace-jk",
    [0, 1, 2, 3, 4].map((s): Seed => [s, 75.0, 100, 50]),
  );
  writeReport(dirA, "cora-grace-pairnorm", [[0, 80.5, 100, 50]]);
  writeReport(dirA, "mnist-simsiam", [[0, 90.0, 20, 10]]);
  writeReport(dirA, "mnist-simsiam-multistage", [
    [0, 91.0, 20, 10],
    [1, 93.0, 20, 10],
  ]);

  // a results file already there, to see it replaced by a rename
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, "graph-contrastive.md"), "old table\n");
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("run-contrastive --from", () => {
  let inodeBefore: number;
  let written: string[];

  beforeAll(() => {
    inodeBefore = statSync(join(results, "graph-contrastive.md")).ino;
    written = main([
      "--from",
      `${dirA},${dirB}`,
      "--results",
      results,
      "--seeds",
      "5",
    ]);
  });

  it("writes every table, each through a temporary file and a rename", () => {
    expect(written.map((p) => p.slice(results.length + 1)).sort()).toEqual([
      "ablation-cora.md",
      "ablation-mnist.md",
      "ablation-optdigits.md",
      "ablations.json",
      "graph-contrastive.json",
      "graph-contrastive.md",
      "image-contrastive.json",
      "image-contrastive.md",
    ]);

    // a rename gives the path a new inode; writing in place would not
    expect(statSync(join(results, "graph-contrastive.md")).ino).not.toBe(
      inodeBefore,
    );
    expect(readdirSync(results).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("merges seeds over folders and gives mean ± population std", () => {
    // Cora: 80, 78, 82, 81, 79 (seed 4 from folder b): mean 400 / 5 = 80,
    // squared deviations 0 + 4 + 4 + 1 + 1 = 10, population std √(10/5)
    // = 1.414 (the sample std √(10/4) = 1.58 would print 1.6)
    // the published columns come from the committed config file (GRACE
    // and DGI), not from the reports (GRACE only)
    const md = read("graph-contrastive.md");
    expect(md).toContain(
      "| Cora | cora-grace | 80.0 ± 1.4 | 5 | 81.9 | 82.3 ± 0.6 | ≥ 81.0 ✗ | 10 | 100-140 wall; 50-70 CPU |",
    );
    // CiteSeer: 70, 71: mean 70.5, std 0.5; 2 of the 5 seeds
    expect(md).toContain(
      "| CiteSeer | citeseer-grace | 70.5 ± 0.5 | 2 of 5 | 71.2 | 71.8 ± 0.7 | ≥ 70.5 ✓ | 10 | 10 wall; 5 CPU |",
    );

    // the prose, its line breaks aside
    const prose = md.replace(/\s+/g, " ");
    expect(prose).toContain("Per seed: Cora 80.0, 78.0, 82.0, 81.0, 79.0");
    expect(prose).toContain("- Cora misses its target by 1.0 points");
    expect(prose).toContain("- CiteSeer meets its target");
    // |80.0 − 79.6| = 0.4 ≤ 1.414
    expect(prose).toContain(
      "our 80.0 matches it within one standard deviation",
    );
    // the probe at epoch 25: (60 + 62) / 2
    expect(prose).toContain(
      "The probe at epochs 25 read 61.0 (mean over 2 seeds)",
    );
    expect(prose).toContain(
      "linear probe (logistic, L-BFGS), l2-normalized, λ = 1.0e-4",
    );

    const data = JSON.parse(read("graph-contrastive.json"));
    expect(data.rows[0].runs).toEqual([80, 78, 82, 81, 79]);
    expect(data.rows[0].seedList).toEqual([0, 1, 2, 3, 4]);
    expect(data.rows[0].mean).toBeCloseTo(80, 10);
    expect(data.rows[0].std).toBeCloseTo(Math.sqrt(2), 2);
  });

  it("shows configs without a report as not run, never a number", () => {
    const md = read("image-contrastive.md");
    expect(md).toMatch(/\| MNIST \| mnist-simclr \| not run \| 0 \|/);
    // raw-pixels.json fills in MNIST's raw-pixel probe
    expect(md).toContain("| 84.3 | – | ≥ 95.0 |");
    // optdigits: 98, 97, 99: mean 98, std √(2/3) = 0.816; 98 − 94.9
    expect(md).toMatch(
      /\| optdigits \| optdigits-simclr \| 98\.0 ± 0\.8 \| 3 of 5 \| .* \| 94\.9 \| \+3\.1 \|/,
    );

    const cora = read("ablation-cora.md");
    const notRun = cora.split("\n").filter((l) => l.includes("| not run |"));
    expect(notRun.map((l) => l.split(" | ")[0])).toEqual([
      "| cora-grace-attention",
      "| cora-grace-multistage",
      "| cora-grace-rewire-knn",
      "| cora-grace-rewire-diffusion",
      "| cora-grace-rewire-community",
      "| cora-grace-glorot",
    ]);
    for (const line of notRun) expect(line).not.toMatch(/\d+\.\d/);
  });

  it("compares each ablation row with its baseline's noise", () => {
    const opt = read("ablation-optdigits.md");
    // 98.5 − 98.0 = +0.5 ≤ std 0.816 of optdigits-simclr
    expect(opt).toContain(
      "| optdigits-simclr-attention | 98.5 ± 0.0 | 3 of 5 | optdigits-simclr | +0.5 | within noise |",
    );
    // 95 − 91 = +4.0 > std 1.0 of optdigits-simsiam (90, 92)
    expect(opt).toContain(
      "| optdigits-simsiam-multistage | 95.0 ± 0.0 | 2 of 5 | optdigits-simsiam | +4.0 | better (beyond 1 std) |",
    );
    expect(opt).toContain(
      "| optdigits-simsiam | 91.0 ± 1.0 | 2 of 5 | (baseline) | – | baseline |",
    );
    // the trick, from the config's description
    expect(opt).toContain(
      "- optdigits-simclr-attention: optdigits-simclr plus attentive alignment",
    );

    const cora = read("ablation-cora.md");
    // 75 − 80 = −5.0, beyond std 1.414
    expect(cora).toContain(
      "| cora-grace-jk | 75.0 ± 0.0 | 5 | cora-grace | −5.0 | worse (beyond 1 std) |",
    );
    expect(cora).toContain(
      "| cora-grace-pairnorm | 80.5 ± 0.0 | 1 of 5 | cora-grace | +0.5 | within noise |",
    );
    // a baseline of one seed has no std to judge by: 92 − 90
    expect(read("ablation-mnist.md")).toContain(
      "| mnist-simsiam-multistage | 92.0 ± 1.0 | 2 of 5 | mnist-simsiam | +2.0 | baseline has 1 seed: no noise estimate |",
    );

    const data = JSON.parse(read("ablations.json"));
    const jk = data.tables.cora.rows.find(
      (r: { config: string }) => r.config === "cora-grace-jk",
    );
    expect(jk.delta).toBeCloseTo(-5, 10);
    expect(jk.verdict).toBe("worse (beyond 1 std)");
    expect(Object.keys(data.tables)).toEqual(["mnist", "optdigits", "cora"]);
  });

  it("with --only, writes only the tables of those configs", () => {
    const before = read("image-contrastive.md");
    const out = main([
      "--from",
      `${dirA},${dirB}`,
      "--results",
      results,
      "--only",
      "cora-grace-jk",
    ]);
    expect(out.map((p) => p.slice(results.length + 1))).toEqual([
      "ablation-cora.md",
      "ablations.json",
    ]);
    expect(read("image-contrastive.md")).toBe(before);
    // the other tables of ablations.json are kept
    const data = JSON.parse(read("ablations.json"));
    expect(Object.keys(data.tables).sort()).toEqual([
      "cora",
      "mnist",
      "optdigits",
    ]);
  });

  it("stops on a malformed report before writing anything", () => {
    const before = read("graph-contrastive.md");
    const bad = join(root, "bad");
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, "cora-grace.json"), '{ "name": "cora-grace", ');
    expect(() =>
      main(["--from", `${dirA},${bad}`, "--results", results]),
    ).toThrow(ConfigError);
    expect(read("graph-contrastive.md")).toBe(before);

    // a report of another config under this name
    writeReport(bad, "citeseer-grace", [[0, 70, 1, 1]]);
    writeFileSync(
      join(bad, "cora-grace.json"),
      readFileSync(join(bad, "citeseer-grace.json")),
    );
    expect(() =>
      main(["--from", `${dirA},${bad}`, "--results", results]),
    ).toThrow(ConfigError);
    // the message names the file at fault
    expect(() =>
      main(["--from", `${dirA},${bad}`, "--results", results]),
    ).toThrow(/bad\/cora-grace\.json/);
    expect(read("graph-contrastive.md")).toBe(before);
  });
});
