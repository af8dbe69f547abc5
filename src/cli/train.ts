/**
 * `mpcl train --config FILE`: supervised node classification as an
 * experiment config describes it (see `nn/config.ts`), run once per seed
 * 0 .. n − 1 (or s .. s + n − 1 with `--first-seed s`) on the dataset's
 * public split.
 *
 * Output: one table row per seed (test and validation accuracy, selected
 * epoch, epochs run, seconds) and the mean ± standard deviation of the
 * test accuracy. `--json` prints instead one JSON object on one line, the
 * last of standard output:
 * `{ "metric": "test_accuracy", "unit": "%", "mean", "std", "runs": [...],
 *    "seconds", ... }` with accuracies in percent and `std` the population
 * standard deviation over seeds (numpy's default). `--out DIR` writes the
 * same object, with every seed's epoch history, to `DIR/<name>.json`
 * (a temporary file renamed into place, so it is complete or absent).
 *
 * A progress bar goes to standard error when it is a terminal, unless
 * `--json` or `--quiet`.
 *
 * A config with `"task": "contrastive"` runs the contrastive trainer
 * instead (`cli/trainContrastive.ts`: same output contract, the mean
 * being the linear-probe test accuracy; `--checkpoint`, `--resume`).
 */

import { randomBytes } from "node:crypto";
import { mkdir, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { initBackend } from "../backend.js";
import {
  loadContrastiveConfig,
  readConfigTask,
} from "../contrastive/config.js";
import { loadDataset } from "../graph/datasets/index.js";
import {
  loadConfig,
  type NodeClassificationConfig,
  type PublishedResult,
} from "../nn/config.js";
import {
  type EpochEvent,
  nodeClassificationData,
  trainNodeClassifier,
} from "../nn/train.js";
import { runContrastiveTrain } from "./trainContrastive.js";
import { round, table, trainRunOptions } from "./util.js";

/** The options of `mpcl train`, as commander hands them over. */
interface TrainOptions {
  config: string;
  seeds?: string;
  firstSeed?: string;
  epochs?: string;
  json?: boolean;
  out?: string;
  quiet?: boolean;
  checkpoint?: string;
  resume?: boolean;
}

/** One seed's outcome, in the JSON report. */
export interface TrainRunReport {
  seed: number;
  /** Test accuracy in percent. */
  testAcc: number;
  /** Validation accuracy in percent. */
  valAcc: number;
  bestEpoch: number;
  epochs: number;
  seconds: number;
}

/** What `mpcl train --json` prints (on one line). */
export interface TrainReport {
  metric: "test_accuracy";
  unit: "%";
  /** Mean test accuracy over seeds, percent. */
  mean: number;
  /** Population standard deviation over seeds, percent. */
  std: number;
  /** Per-seed test accuracies, percent, in seed order. */
  runs: number[];
  /** Wall-clock seconds of all runs. */
  seconds: number;
  name: string;
  dataset: string;
  conv: string;
  seeds: number;
  published: PublishedResult | null;
  details: TrainRunReport[];
  /** The resolved config (every default filled in). */
  config: NodeClassificationConfig;
}

/** Register `mpcl train` on the program. */
export function registerTrain(program: Command): void {
  program
    .command("train")
    .description(
      "supervised node classification or contrastive training from an " +
        "experiment config (experiments/configs/*.json), one run per seed",
    )
    .requiredOption("--config <file>", "the experiment config (JSON)")
    .option("--seeds <n>", "number of seeds 0..n-1 (default: the config's)")
    .option(
      "--first-seed <s>",
      "start at seed s instead of 0 (runs s..s+n-1), to split or resume",
      "0",
    )
    .option("--epochs <n>", "override the config's largest epoch count")
    .option("--json", "print one JSON object instead of the table")
    .option("--out <dir>", "write the full report to DIR/<name>.json")
    .option("--quiet", "no progress bar")
    .option(
      "--checkpoint <dir>",
      "contrastive configs: keep a checkpoint per seed in DIR/seed<s>/",
    )
    .option("--resume", "contrastive configs: go on from --checkpoint")
    .action(async (opts: TrainOptions) => {
      await runTrain(opts);
    });
}

async function runTrain(opts: TrainOptions): Promise<void> {
  // contrastive configs have their own runner (cli/trainContrastive.ts)
  if (readConfigTask(opts.config) === "contrastive") {
    await runContrastiveTrain(loadContrastiveConfig(opts.config), opts);
    return;
  }

  // the config, with command-line overrides
  const { config, seeds, firstSeed } = trainRunOptions(
    loadConfig(opts.config),
    opts,
  );

  await initBackend();
  const dataset = loadDataset(config.dataset.name);
  const data = nodeClassificationData(dataset, config.dataset);

  // one run per seed, with a progress bar over all epochs on a terminal
  const bar =
    process.stderr.isTTY && !opts.json && !opts.quiet
      ? new cliProgress.SingleBar(
          {
            format:
              "train [{bar}] seed {seed}/{seeds}  epoch {epoch}  val acc {valAcc}%",
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  const perSeed = config.train.epochs;
  bar?.start(seeds * perSeed, 0, { seed: 1, seeds, epoch: 0, valAcc: "-" });
  const start = performance.now();
  const details: TrainRunReport[] = [];
  const histories: EpochEvent[][] = [];
  try {
    for (let k = 0; k < seeds; k++) {
      const seed = firstSeed + k;
      const result = trainNodeClassifier(config, data, {
        seed,
        onEpoch: (e) =>
          bar?.update(k * perSeed + e.epoch, {
            seed: k + 1,
            seeds,
            epoch: e.epoch,
            valAcc: (100 * e.valAcc).toFixed(1),
          }),
      });
      bar?.update((k + 1) * perSeed);
      details.push({
        seed,
        testAcc: round(100 * result.testAcc, 2),
        valAcc: round(100 * result.valAcc, 2),
        bestEpoch: result.bestEpoch,
        epochs: result.epochs,
        seconds: round(result.seconds, 2),
      });
      histories.push(result.history);

      // the finished seeds are written after each one, so that an
      // interrupted run keeps them
      if (opts.out !== undefined) {
        const partial = summarize(config, details, start);
        await writeReportAtomically(opts.out, config.name, partial, histories);
      }
    }
  } finally {
    bar?.stop();
  }
  const report = summarize(config, details, start);
  const { mean, std } = report;

  if (opts.out !== undefined) {
    await writeReportAtomically(opts.out, config.name, report, histories);
  }
  if (opts.json) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(
    `${config.name}: ${config.model.conv} on ${config.dataset.name}, ` +
      `${seeds} seed${seeds > 1 ? "s" : ""}`,
  );
  console.log(
    table(
      ["seed", "test %", "val %", "best epoch", "epochs", "seconds"],
      details.map((d) => [
        d.seed,
        d.testAcc.toFixed(1),
        d.valAcc.toFixed(1),
        d.bestEpoch,
        d.epochs,
        d.seconds.toFixed(1),
      ]),
    ),
  );
  const published =
    config.published === null
      ? ""
      : `  (published ${config.published.mean}` +
        `${config.published.std === null ? "" : ` ± ${config.published.std}`})`;
  console.log(
    `test accuracy: ${mean.toFixed(1)} ± ${std.toFixed(1)} %${published}, ` +
      `${report.seconds.toFixed(1)} s`,
  );
}

/**
 * The report over the seeds run so far: mean and population standard
 * deviation of the test accuracy, in percent.
 */
function summarize(
  config: NodeClassificationConfig,
  details: TrainRunReport[],
  start: number,
): TrainReport {
  const runs = details.map((d) => d.testAcc);
  const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
  const std = Math.sqrt(
    runs.reduce((a, b) => a + (b - mean) ** 2, 0) / runs.length,
  );
  return {
    metric: "test_accuracy",
    unit: "%",
    mean: round(mean, 2),
    std: round(std, 2),
    runs,
    seconds: round((performance.now() - start) / 1000, 1),
    name: config.name,
    dataset: config.dataset.name,
    conv: config.model.conv,
    seeds: details.length,
    published: config.published,
    details,
    config,
  };
}

/** Write the report and histories to `dir/<name>.json` atomically. */
async function writeReportAtomically(
  dir: string,
  name: string,
  report: TrainReport,
  histories: EpochEvent[][],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  const temp = join(dir, `.${name}.json.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(
      temp,
      `${JSON.stringify({ ...report, histories }, null, 2)}\n`,
    );
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
