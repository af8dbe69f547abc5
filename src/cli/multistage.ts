/**
 * `mpcl multistage`: the multi-stage anti-collapse study of
 * `experiments/multistage.ts` — linear-probe accuracy of a contrastive
 * encoder trained without negatives, against the number r of past
 * epochs aggregated into its alignment target, next to the random
 * encoder — with its table, bar chart and JSON.
 *
 * Files written to `--out DIR` (default `experiments/results`), each
 * atomically (a temporary file renamed into place):
 * - `multistage.json`: the protocol, every run (stage, seed) and the
 *   per-stage means and standard deviations; rewritten after every run,
 *   so an interrupted study keeps what it finished;
 * - `multistage.md`: the protocol in prose, the table, the figure and a
 *   paragraph reading the result;
 * - `multistage.{vl.json,svg,png}`: the bar chart.
 *
 * `--resume` reuses the runs of an existing `multistage.json` whose
 * training settings are the same (dataset, epochs, μ, warm-up, config);
 * runs outside this call's stages and seeds are not kept.
 *
 * Output: the markdown table; `--json` prints instead one JSON object on
 * one line, the last of standard output: `{ "metric":
 * "linear_probe_test_accuracy", "unit": "%", "summary", "seconds",
 * "files" }`. A progress bar goes to standard error when it is a
 * terminal, unless `--json` or `--quiet`.
 */

import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import {
  DEFAULT_MULTISTAGE_PROTOCOL,
  MULTISTAGE_DATASETS,
  type MultistageDataset,
  type MultistageProtocol,
  type MultistageResult,
  type MultistageRun,
  multistageConfig,
  multistageFigure,
  multistageProtocolKey,
  multistageReading,
  multistageTable,
  runMultistage,
  stageLabel,
  summarizeMultistage,
} from "../../experiments/multistage.js";
import { initBackend } from "../backend.js";
import { contrastiveData } from "../contrastive/trainer.js";
import { ConfigError } from "../errors.js";
import { loadDataset } from "../graph/datasets/index.js";
import { writeFigure } from "../plot/figure.js";
import { writeTextAtomic, writeTextAtomicSync } from "../report/write.js";
import { integerOption } from "./util.js";

/** The options of `mpcl multistage`, as commander hands them over. */
interface MultistageOptions {
  stages?: string;
  seeds?: string;
  epochs?: string;
  mix?: string;
  width?: string;
  dataset?: string;
  out: string;
  resume?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** The base name of every file written. */
const NAME = "multistage";

/** Register `mpcl multistage` on the program. */
export function registerMultistage(program: Command): void {
  const p = DEFAULT_MULTISTAGE_PROTOCOL;
  program
    .command("multistage")
    .description(
      "probe accuracy against the number of aggregated past epochs " +
        "(multi-stage alignment) in a collapsing no-negative setting, " +
        "next to a random encoder (table, bar chart, JSON)",
    )
    .option(
      "--stages <list>",
      `aggregated epochs r, comma-separated or a range a-b (default ${p.stages[0]}-${p.stages[p.stages.length - 1]})`,
    )
    .option("--seeds <n>", `seeds per stage (default ${p.seeds})`)
    .option("--epochs <n>", `training epochs (default ${p.epochs})`)
    .option(
      "--mix <mu>",
      `weight of the memory in the target (default ${p.mix})`,
    )
    .option(
      "--width <n>",
      "width of the encoder's layers and the projector's hidden layer " +
        `(default ${encoderWidth(p)})`,
    )
    .option(
      "--dataset <name>",
      `${MULTISTAGE_DATASETS.join(" or ")} (default ${p.dataset})`,
    )
    .option("--out <dir>", "folder of the results", "experiments/results")
    .option("--resume", "reuse the runs of DIR/multistage.json")
    .option("--json", "print one JSON object instead of the table")
    .option("--quiet", "no progress bar")
    .action(async (opts: MultistageOptions) => {
      await runCommand(opts);
    });
}

/** The width of the protocol's MLP encoder (its last layer). */
function encoderWidth(p: Readonly<MultistageProtocol>): number | string {
  const e = p.base.encoder;
  return e?.kind === "mlp" ? e.dims[e.dims.length - 1] : "the encoder's";
}

/** "0-6" or "0,2,4" (or a mix, "0-2,6") as a list of integers. */
function stageList(value: string): number[] {
  const out: number[] = [];
  for (const part of value.split(",")) {
    const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
    if (range === null) {
      out.push(integerOption("multistage", "stages", part, 0));
      continue;
    }
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a) {
      throw new ConfigError(
        `mpcl multistage: --stages range must ascend, got ${JSON.stringify(part)}`,
      );
    }
    for (let r = a; r <= b; r++) out.push(r);
  }
  return out;
}

/**
 * The protocol the options describe, over the defaults.
 *
 * @throws ConfigError naming the option at fault.
 */
export function multistageProtocolFromOptions(
  opts: Omit<MultistageOptions, "out">,
): MultistageProtocol {
  const p: MultistageProtocol = structuredClone({
    ...DEFAULT_MULTISTAGE_PROTOCOL,
  });
  if (opts.stages !== undefined) p.stages = stageList(opts.stages);
  if (opts.seeds !== undefined)
    p.seeds = integerOption("multistage", "seeds", opts.seeds, 1);
  if (opts.epochs !== undefined) {
    p.epochs = integerOption("multistage", "epochs", opts.epochs, 2);
  }
  if (opts.mix !== undefined) {
    const mix = Number(opts.mix);
    if (opts.mix.trim() === "" || !(mix > 0 && mix <= 1)) {
      throw new ConfigError(
        `mpcl multistage: --mix must lie in (0, 1], got ${JSON.stringify(opts.mix)}`,
      );
    }
    p.mix = mix;
  }
  if (opts.width !== undefined) {
    const width = integerOption("multistage", "width", opts.width, 1);
    const encoder = p.base.encoder;
    if (encoder?.kind === "mlp") {
      p.base.encoder = { ...encoder, dims: encoder.dims.map(() => width) };
    }
    if (p.base.projector != null) {
      p.base.projector = { ...p.base.projector, hidden: width };
    }
  }
  if (opts.dataset !== undefined) {
    if (!(MULTISTAGE_DATASETS as readonly string[]).includes(opts.dataset)) {
      throw new ConfigError(
        `mpcl multistage: --dataset must be ${MULTISTAGE_DATASETS.join(" or ")}, got ${JSON.stringify(opts.dataset)}`,
      );
    }
    p.dataset = opts.dataset as MultistageDataset;
  }
  return p;
}

/**
 * The runs of `DIR/multistage.json` that `--resume` may reuse: all of
 * them when its training settings equal `protocol`'s, none (with a note
 * on standard error) otherwise or when there is no such file.
 */
function previousRuns(
  path: string,
  protocol: MultistageProtocol,
): MultistageRun[] {
  if (!existsSync(path)) return [];
  let old: MultistageResult;
  try {
    old = JSON.parse(readFileSync(path, "utf8")) as MultistageResult;
  } catch (err) {
    throw new ConfigError(
      `mpcl multistage: cannot read ${path}: ${(err as Error).message}`,
    );
  }
  if (multistageProtocolKey(old.protocol) !== multistageProtocolKey(protocol)) {
    console.error(
      `mpcl multistage: ${path} has other training settings; no run is reused`,
    );
    return [];
  }
  return old.runs;
}

/** The markdown report: how the study was run, the table, the reading. */
function markdownReport(result: MultistageResult, command: string): string {
  const p = result.protocol;
  const b = p.base;
  const seconds = result.runs.reduce((s, r) => s + r.seconds, 0);
  return [
    "# Multi-stage aggregation against collapse",
    "",
    `Written by \`${command}\` (experiments/multistage.ts)` +
      (command.includes("--resume")
        ? "; runs of an earlier call with the same settings were reused, " +
          "not retrained."
        : "."),
    "",
    `- Data: ${p.dataset}, the training images (views drawn by the ` +
      "default image augmentation: small affine moves, noise, erasing); " +
      "probe tested on the test images.",
    `- Model: MLP encoder ${JSON.stringify(b.encoder)}, projector ` +
      `${JSON.stringify(b.projector)}, predictor ${JSON.stringify(b.predictor)}.`,
    `- Objective: ${b.objective?.name} (targets "${b.targets}"): ` +
      "−cos between each view's features and the stop-gradient " +
      "projection of the other view; no negatives, no uniformity term. " +
      "Without a predictor this is Chen & He's collapsing ablation.",
    `- Multi-stage alignment with r past epochs: a memory bank keeps ` +
      "each image's normalized features (mean of its two views) of its " +
      `last r epochs, and from epoch ${p.warmupEpochs + 1} on the target is ` +
      `(1 − μ)·(other view) + μ·(bank mean), μ = ${p.mix}` +
      (p.mix === 1
        ? " — only past stages, the slide's formula z = (1/r) Σ z^(t−i)"
        : "") +
      "; an image not drawn yet (batches leave N mod B images out of " +
      "each epoch) keeps the plain target until it has memory.",
    `- Training: ${p.epochs} epochs, ${JSON.stringify(b.train)}.`,
    `- Rand: the same network at its initialization (0 epochs), same ` +
      "seeds, same probe.",
    `- Probe: ${result.probe}. Mean ± population std over ${p.seeds} ` +
      "seeds.",
    `- Collapse diagnostic (SimSiam's): mean over dimensions of the std ` +
      "over all images of the ℓ2-normalized encoder output h (and of the " +
      `projection z); 1/√d = ${result.featureStdReference.toExponential(2)} ` +
      "for features spread over the sphere, 0 for complete collapse.",
    `- Compute: ${Math.round(seconds)} s of wall clock over ` +
      `${result.runs.length} runs, one process, MPCL_THREADS=` +
      `${process.env.MPCL_THREADS ?? "unset"}.`,
    "",
    multistageTable(result),
    "",
    "![probe accuracy against aggregated epochs](multistage.svg)",
    "",
    multistageReading(result),
    "",
  ].join("\n");
}

/** Run the study and write its files. */
async function runCommand(opts: MultistageOptions): Promise<void> {
  const protocol = multistageProtocolFromOptions(opts);
  await initBackend();
  const data = contrastiveData(
    multistageConfig(protocol, 0),
    loadDataset(protocol.dataset),
  );
  await mkdir(opts.out, { recursive: true });
  const jsonPath = join(opts.out, `${NAME}.json`);
  const previous = opts.resume ? previousRuns(jsonPath, protocol) : [];

  const bar =
    process.stderr.isTTY && !opts.json && !opts.quiet
      ? new cliProgress.SingleBar(
          {
            format: "multistage [{bar}] {value}/{total}  {run}  epoch {epoch}",
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  let result: MultistageResult;
  try {
    result = runMultistage(data, protocol, {
      previous,
      onRunStart: ({ stage, seed }, index, total) => {
        if (index === 0) bar?.start(total, 0, { run: "", epoch: 0 });
        bar?.update(index, {
          run: `r ${stageLabel(stage)}, seed ${seed}`,
          epoch: 0,
        });
      },
      onEpoch: (e) => bar?.update({ epoch: e.epoch }),
      onRun: (_run, done) => {
        // the finished runs go to disk after each one (synchronously:
        // training holds the event loop), so that an interrupted study
        // keeps them and --resume picks them up
        const partial: MultistageResult = {
          protocol,
          featureStdReference: Number.NaN,
          probe: "",
          runs: [...done],
          summary: summarizeMultistage(done),
          seconds: 0,
        };
        writeTextAtomicSync(jsonPath, `${JSON.stringify(partial, null, 2)}\n`);
      },
    });
  } finally {
    bar?.stop();
  }

  // the files: JSON, markdown, figure
  const command =
    "mpcl multistage" +
    (process.argv.length > 3 ? ` ${process.argv.slice(3).join(" ")}` : "");
  await writeTextAtomic(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  const mdPath = join(opts.out, `${NAME}.md`);
  await writeTextAtomic(mdPath, markdownReport(result, command));
  const figure = await writeFigure(
    multistageFigure(result),
    join(opts.out, NAME),
  );
  const files = [jsonPath, mdPath, figure.spec, figure.svg, figure.png];

  if (opts.json) {
    console.log(
      JSON.stringify({
        metric: "linear_probe_test_accuracy",
        unit: "%",
        summary: result.summary,
        seconds: result.seconds,
        files,
      }),
    );
    return;
  }
  console.log(multistageTable(result));
  console.log(`${result.seconds.toFixed(1)} s; wrote ${files.join(", ")}`);
}
