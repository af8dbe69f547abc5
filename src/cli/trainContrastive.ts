import { mkdirSync } from "node:fs";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { initBackend } from "../backend.js";
import type {
  ContrastiveConfig,
  PublishedNumber,
} from "../contrastive/config.js";
import { contrastiveData, trainContrastive } from "../contrastive/trainer.js";
import { ConfigError } from "../errors.js";
import type { EvaluationProtocol } from "../eval/protocol.js";
import { loadDataset } from "../graph/datasets/index.js";
import { writeTextAtomicSync } from "../report/write.js";
import { round, table, trainRunOptions } from "./util.js";

/** The options of `mpcl train` that a contrastive run reads. */
export interface ContrastiveTrainOptions {
  seeds?: string;
  firstSeed?: string;
  epochs?: string;
  json?: boolean;
  out?: string;
  quiet?: boolean;
  checkpoint?: string;
  resume?: boolean;
}

/** One seed's outcome, in the JSON report (accuracies in percent). */
export interface ContrastiveRunReport {
  seed: number;
  testAcc: number;
  valAcc: number;
  chosenL2: number;
  /** kNN test accuracy, when the config asks for it. */
  knnAcc: number | null;
  epochs: number;
  seconds: number;
  /** CPU seconds (user + system) of the process during the run. */
  cpuSeconds: number;
}

/** What `mpcl train --json` prints for a contrastive config. */
export interface ContrastiveTrainReport {
  metric: "linear_probe_test_accuracy";
  unit: "%";
  mean: number;
  std: number;
  runs: number[];
  /** Wall-clock seconds of all runs. */
  seconds: number;
  name: string;
  dataset: string;
  seeds: number[];
  /** The probe protocol of the first seed (λ differs per seed). */
  protocol: EvaluationProtocol | null;
  published: readonly PublishedNumber[];
  details: ContrastiveRunReport[];
  config: ContrastiveConfig;
}

/** Mean and population standard deviation. */
function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(
    xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length,
  );
  return { mean, std };
}

/**
 * Run a contrastive config over seeds and print the table or the JSON
 * line (see the file comment).
 *
 * @throws ConfigError for bad options.
 */
export async function runContrastiveTrain(
  loaded: ContrastiveConfig,
  opts: ContrastiveTrainOptions,
): Promise<ContrastiveTrainReport> {
  const { config, seeds: count, firstSeed } = trainRunOptions(loaded, opts);
  if (opts.resume === true && opts.checkpoint === undefined) {
    throw new ConfigError("mpcl train: --resume needs --checkpoint DIR");
  }

  await initBackend();
  const data = contrastiveData(config, loadDataset(config.dataset.name));
  if (opts.out !== undefined) mkdirSync(opts.out, { recursive: true });

  // a progress bar over all epochs of all seeds, on a terminal
  const epochs = config.train.epochs;
  const bar =
    process.stderr.isTTY && !opts.json && !opts.quiet
      ? new cliProgress.SingleBar(
          {
            format:
              "train [{bar}] seed {seed}/{seeds}  epoch {epoch}  loss {loss}",
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(count * epochs, 0, { seed: 1, seeds: count, epoch: 0, loss: "-" });

  const start = performance.now();
  const details: ContrastiveRunReport[] = [];
  let protocol: EvaluationProtocol | null = null;
  const report = (): ContrastiveTrainReport => {
    const runs = details.map((d) => d.testAcc);
    const { mean, std } = meanStd(runs);
    return {
      metric: "linear_probe_test_accuracy",
      unit: "%",
      mean: round(mean, 2),
      std: round(std, 2),
      runs,
      seconds: round((performance.now() - start) / 1000, 1),
      name: config.name,
      dataset: config.dataset.name,
      seeds: details.map((d) => d.seed),
      protocol,
      published: config.published,
      details,
      config,
    };
  };
  try {
    for (let k = 0; k < count; k++) {
      const seed = firstSeed + k;
      const cpu = process.cpuUsage();
      const result = trainContrastive(config, data, {
        seed,
        checkpointDir:
          opts.checkpoint === undefined
            ? undefined
            : join(opts.checkpoint, `seed${seed}`),
        resume: opts.resume === true,
        metricsPath:
          opts.out === undefined
            ? undefined
            : join(opts.out, `${config.name}.seed${seed}.metrics.jsonl`),
        onEpoch: (e) =>
          bar?.update(k * epochs + e.epoch, {
            seed: k + 1,
            seeds: count,
            epoch: e.epoch,
            loss: e.loss === null ? "-" : e.loss.toFixed(4),
          }),
      });
      const used = process.cpuUsage(cpu);
      const final = result.final;
      if (final === null) {
        throw new ConfigError(
          `mpcl train: seed ${seed} stopped before the end`,
        );
      }
      protocol ??= final.protocol;
      details.push({
        seed,
        testAcc: round(100 * final.testAccuracy, 2),
        valAcc: round(100 * final.valAccuracy, 2),
        chosenL2: final.chosenL2,
        knnAcc:
          final.knn === null ? null : round(100 * final.knn.testAccuracy, 2),
        epochs: result.epoch,
        seconds: round(result.seconds, 1),
        cpuSeconds: round((used.user + used.system) / 1e6, 1),
      });
      if (opts.out !== undefined) {
        writeTextAtomicSync(
          join(opts.out, `${config.name}.json`),
          `${JSON.stringify(report(), null, 2)}\n`,
        );
      }
    }
  } finally {
    bar?.stop();
  }

  const out = report();
  if (opts.json) {
    console.log(JSON.stringify(out));
    return out;
  }
  console.log(
    `${config.name}: ${config.objective.name} on ${config.dataset.name}, ` +
      `${count} seed${count > 1 ? "s" : ""}`,
  );
  console.log(
    table(
      ["seed", "probe test %", "val %", "λ", "seconds", "cpu s"],
      details.map((d) => [
        d.seed,
        d.testAcc.toFixed(1),
        d.valAcc.toFixed(1),
        d.chosenL2.toExponential(1),
        d.seconds.toFixed(1),
        d.cpuSeconds.toFixed(1),
      ]),
    ),
  );
  const published = config.published
    .map((p) => `${p.method} ${p.mean}`)
    .join(", ");
  console.log(
    `linear-probe test accuracy: ${out.mean.toFixed(1)} ± ` +
      `${out.std.toFixed(1)} %${published === "" ? "" : ` (published: ${published})`}, ` +
      `${out.seconds.toFixed(1)} s`,
  );
  return out;
}
