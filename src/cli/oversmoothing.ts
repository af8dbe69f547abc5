/**
 * `mpcl oversmoothing`: the oversmoothing study of
 * `experiments/oversmoothing.ts` — test accuracy and Dirichlet energy
 * against depth on Cora for a plain GCN, GCN + PairNorm, GCN + ContraNorm
 * and GCN + jumping knowledge — with its table, figure and JSON.
 *
 * Files written to `--out DIR` (default `experiments/results`), each
 * atomically (a temporary file renamed into place):
 * - `oversmoothing.json`: the protocol, every cell (variant, depth,
 *   seed) and the summaries; rewritten after every cell, so an
 *   interrupted run keeps what it finished;
 * - `oversmoothing.md`: the protocol in prose and the table;
 * - `oversmoothing.{vl.json,svg,png}`: the two-panel figure.
 *
 * `--resume` reuses the cells of an existing `oversmoothing.json` whose
 * training protocol is the same (hidden width, rates, epochs, patience,
 * norms), and keeps those outside this run's variants, depths or seeds,
 * so that the study can be run in parts and completed later. `--report`
 * trains nothing and rewrites the table, figure and JSON from the cells
 * of `DIR/oversmoothing.json` (those of several runs may be merged into
 * it by hand, as long as their training protocols agree).
 *
 * Output: the markdown table; `--json` prints instead one JSON object on
 * one line, the last of standard output: `{ "metric":
 * "test_accuracy", "unit": "%", "summary": [...], "inputEnergy",
 * "seconds", "files" }`. A progress bar goes to standard error when it
 * is a terminal, unless `--json` or `--quiet`.
 */

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import {
  DEFAULT_OVERSMOOTHING_PROTOCOL,
  OVERSMOOTHING_VARIANTS,
  type OversmoothingCell,
  type OversmoothingProtocol,
  type OversmoothingResult,
  type OversmoothingVariant,
  oversmoothingFigure,
  oversmoothingTable,
  protocolKey,
  referenceEnergies,
  runOversmoothing,
  summarizeCells,
  VARIANT_LABELS,
} from "../../experiments/oversmoothing.js";
import { initBackend } from "../backend.js";
import { ConfigError } from "../errors.js";
import { loadDataset } from "../graph/datasets/index.js";
import { nodeClassificationData } from "../nn/train.js";
import { writeFigure } from "../plot/figure.js";
import { writeTextAtomicSync } from "../report/write.js";
import { integerOption } from "./util.js";

/** The options of `mpcl oversmoothing`, as commander hands them over. */
interface OversmoothingOptions {
  depths?: string;
  variants?: string;
  seeds?: string;
  epochs?: string;
  patience?: string;
  hidden?: string;
  out: string;
  json?: boolean;
  resume?: boolean;
  report?: boolean;
  quiet?: boolean;
}

/** The base name of every file written. */
const NAME = "oversmoothing";

/** Register `mpcl oversmoothing` on the program. */
export function registerOversmoothing(program: Command): void {
  const p = DEFAULT_OVERSMOOTHING_PROTOCOL;
  program
    .command("oversmoothing")
    .description(
      "accuracy and Dirichlet energy against depth on Cora: GCN, " +
        "+PairNorm, +ContraNorm, +JK (table, figure, JSON)",
    )
    .option(
      "--depths <list>",
      `numbers of layers, comma-separated (default ${p.depths.join(",")})`,
    )
    .option(
      "--variants <list>",
      `among ${OVERSMOOTHING_VARIANTS.join(",")} (default all)`,
    )
    .option("--seeds <n>", `seeds per cell (default ${p.seeds})`)
    .option("--epochs <n>", `largest number of epochs (default ${p.epochs})`)
    .option(
      "--patience <n>",
      `early-stopping patience, 0 for none (default ${p.patience})`,
    )
    .option("--hidden <n>", `hidden width (default ${p.hidden})`)
    .option("--out <dir>", "folder of the results", "experiments/results")
    .option("--resume", "reuse the cells of DIR/oversmoothing.json")
    .option(
      "--report",
      "train nothing: rewrite the table and figure from " +
        "DIR/oversmoothing.json",
    )
    .option("--json", "print one JSON object instead of the table")
    .option("--quiet", "no progress bar")
    .action(async (opts: OversmoothingOptions) => {
      await runCommand(opts);
    });
}

/** The protocol the options describe, over the defaults. */
export function protocolFromOptions(
  opts: Omit<OversmoothingOptions, "out">,
): OversmoothingProtocol {
  const p: OversmoothingProtocol = structuredClone({
    ...DEFAULT_OVERSMOOTHING_PROTOCOL,
  });
  if (opts.depths !== undefined) {
    p.depths = opts.depths
      .split(",")
      .map((d) => integerOption("oversmoothing", "depths", d, 2));
  }
  if (opts.variants !== undefined) {
    const names = opts.variants.split(",").map((v) => v.trim());
    for (const v of names) {
      if (!(OVERSMOOTHING_VARIANTS as readonly string[]).includes(v)) {
        throw new ConfigError(
          `mpcl oversmoothing: --variants must name ${OVERSMOOTHING_VARIANTS.join(", ")}, got ${JSON.stringify(v)}`,
        );
      }
    }
    p.variants = names as OversmoothingVariant[];
  }
  if (opts.seeds !== undefined)
    p.seeds = integerOption("oversmoothing", "seeds", opts.seeds, 1);
  if (opts.epochs !== undefined) {
    p.epochs = integerOption("oversmoothing", "epochs", opts.epochs, 1);
  }
  if (opts.patience !== undefined) {
    p.patience = integerOption("oversmoothing", "patience", opts.patience, 0);
  }
  if (opts.hidden !== undefined) {
    p.hidden = integerOption("oversmoothing", "hidden", opts.hidden, 1);
  }
  return p;
}

/** Write `text` to `path` through a temporary file and a rename. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** The result stored in `path`, or `ConfigError`. */
function readResult(path: string): OversmoothingResult {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as OversmoothingResult;
  } catch (err) {
    throw new ConfigError(
      `mpcl oversmoothing: cannot read ${path}: ${(err as Error).message}`,
    );
  }
}

/**
 * The cells of `DIR/oversmoothing.json` that `--resume` may reuse: all
 * of them when its training protocol equals `protocol`'s, none (with a
 * note on standard error) otherwise or when there is no such file.
 */
function previousCells(
  dir: string,
  protocol: OversmoothingProtocol,
): OversmoothingCell[] {
  const path = join(dir, `${NAME}.json`);
  if (!existsSync(path)) return [];
  const old = readResult(path);
  if (protocolKey(old.protocol) !== protocolKey(protocol)) {
    console.error(
      `mpcl oversmoothing: ${path} has another training protocol; ` +
        "no cell is reused",
    );
    return [];
  }
  return old.cells;
}

/**
 * The result over this run's cells and the kept earlier ones, sorted by
 * variant, depth and seed, with the protocol's lists widened to them.
 */
function mergedResult(
  result: OversmoothingResult,
  kept: readonly OversmoothingCell[],
): OversmoothingResult {
  const order = (v: OversmoothingVariant) => OVERSMOOTHING_VARIANTS.indexOf(v);
  const cells = [...result.cells, ...kept].sort(
    (a, b) =>
      order(a.variant) - order(b.variant) ||
      a.depth - b.depth ||
      a.seed - b.seed,
  );
  const variants = OVERSMOOTHING_VARIANTS.filter((v) =>
    cells.some((c) => c.variant === v),
  );
  const depths = [...new Set(cells.map((c) => c.depth))].sort((a, b) => a - b);
  const seeds = Math.max(...cells.map((c) => c.seed + 1));
  return {
    ...result,
    protocol: { ...result.protocol, variants, depths, seeds },
    cells,
    summary: summarizeCells(cells),
  };
}

/** Seconds of training per variant, summed over its cells. */
function cellSeconds(result: OversmoothingResult): string {
  const parts = result.protocol.variants.map((v) => {
    const seconds = result.cells
      .filter((c) => c.variant === v)
      .reduce((s, c) => s + c.seconds, 0);
    return `${VARIANT_LABELS[v]} ${Math.round(seconds)} s`;
  });
  return `${parts.join(", ")} (wall clock, summed over seeds and depths)`;
}

/** A line naming the (variant, depth) pairs that have no cell, if any. */
function missingCells(result: OversmoothingResult): string[] {
  const { variants, depths } = result.protocol;
  const missing = variants.flatMap((v) =>
    depths
      .filter(
        (d) => !result.cells.some((c) => c.variant === v && c.depth === d),
      )
      .map((d) => `${VARIANT_LABELS[v]} at ${d} layers`),
  );
  return missing.length === 0 ? [] : [`- Not run: ${missing.join(", ")}.`];
}

/** The markdown report: what was run, how, and the table. */
function markdownReport(result: OversmoothingResult, command: string): string {
  const p = result.protocol;
  const variants = p.variants.map((v) => VARIANT_LABELS[v]).join(", ");
  return [
    "# Oversmoothing: accuracy and Dirichlet energy against depth",
    "",
    command.includes("--report")
      ? `Rewritten by \`${command}\` (experiments/oversmoothing.ts) ` +
        "from the cells stored in oversmoothing.json, which earlier runs " +
        "of `mpcl oversmoothing` trained with the protocol below."
      : `Written by \`${command}\` (experiments/oversmoothing.ts).`,
    "",
    `- Data: ${p.dataset}, public split (140 train, 500 validation, ` +
      "1,000 test), row-normalized bag-of-words features.",
    `- Models: ${variants}; ${p.depths.join(", ")} layers (the output ` +
      "layer included; with JK every layer is hidden and a linear " +
      "classifier follows the readout).",
    `- Hidden width ${p.hidden}, ReLU; dropout ${p.inputDropout} on the ` +
      `input features, ${p.dropout} between layers.`,
    `- Adam, lr ${p.lr}, weight decay ${p.weightDecay} on all weights; at ` +
      `most ${p.epochs} epochs, patience ${p.patience} on validation ` +
      "accuracy (ties broken by validation loss); the selected weights " +
      "are tested.",
    `- PairNorm: ${p.pairNorm.mode}, s = ${p.pairNorm.scale} (Zhao & ` +
      "Akoglu use PN-SI for GCN). ContraNorm: s = " +
      `${p.contraNorm.scale}, τ = ${p.contraNorm.temperature}` +
      `${p.contraNorm.layerNorm ? ", with its LayerNorm" : ""} (the ` +
      `authors' module defaults, not tuned). JK: ${p.jk}.`,
    "- Energy: tr(HᵀΔ̃H) / tr(HᵀH) of the last hidden layer's output H " +
      "(after its norm and ReLU), Δ̃ = I − D̃^-1/2 (A + I) D̃^-1/2 the " +
      "augmented normalized Laplacian (GCN's); scale-free, in [0, 2). " +
      'Geometric mean over seeds. "at init" is the untrained model ' +
      `(random weights). Input features: ${result.inputEnergy.toPrecision(3)}; ` +
      `constant features (every row equal): ${result.constantEnergy.toPrecision(3)} — ` +
      "the ratio vanishes on D̃^1/2 1, not on constants, so a network " +
      "whose rows have all become equal (a bias alone) sits near that " +
      "level rather than at 0.",
    `- Test accuracy: mean ± population std over the seeds of each row.`,
    `- Compute: ${cellSeconds(result)}.`,
    ...missingCells(result),
    "",
    oversmoothingTable(result),
    "",
    "![accuracy and energy against depth](oversmoothing.svg)",
    "",
  ].join("\n");
}

/** Run the study and write its files. */
async function runCommand(opts: OversmoothingOptions): Promise<void> {
  const protocol = protocolFromOptions(opts);
  await initBackend();
  const dataset = loadDataset("cora");
  const data = nodeClassificationData(dataset, {
    featureNorm: "row",
    sparseFeatures: true,
  });
  await mkdir(opts.out, { recursive: true });
  const jsonPath = join(opts.out, `${NAME}.json`);
  if (opts.report) {
    const old = readResult(jsonPath);
    const merged = mergedResult(
      {
        protocol: old.protocol,
        ...referenceEnergies(data),
        cells: [],
        summary: [],
        seconds: 0,
      },
      old.cells,
    );
    await writeFiles(opts, merged, 0);
    return;
  }

  // earlier cells: those of this plan are reused, the others kept
  const previous = opts.resume ? previousCells(opts.out, protocol) : [];
  const planned = (c: OversmoothingCell) =>
    protocol.variants.includes(c.variant) &&
    protocol.depths.includes(c.depth) &&
    c.seed < protocol.seeds;
  const kept = previous.filter((c) => !planned(c));

  const bar =
    process.stderr.isTTY && !opts.json && !opts.quiet
      ? new cliProgress.SingleBar(
          {
            format:
              "oversmoothing [{bar}] {value}/{total}  {cell}  epoch {epoch}",
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  let result: OversmoothingResult;
  try {
    result = runOversmoothing(data, protocol, {
      previous: previous.filter(planned),
      onCellStart: ({ variant, depth, seed }, index, total) => {
        if (index === 0) bar?.start(total, 0, { cell: "", epoch: 0 });
        bar?.update(index, {
          cell: `${VARIANT_LABELS[variant]}, ${depth} layers, seed ${seed}`,
          epoch: 0,
        });
      },
      onEpoch: (e) => bar?.update({ epoch: e.epoch }),
      onCell: (_cell, done) => {
        // the finished cells are written after each one (synchronously:
        // the run holds the event loop), so an interrupted run keeps them
        const partial = mergedResult(
          {
            protocol,
            inputEnergy: Number.NaN,
            constantEnergy: Number.NaN,
            cells: [...done],
            summary: [],
            seconds: 0,
          },
          kept,
        );
        writeTextAtomicSync(jsonPath, `${JSON.stringify(partial, null, 2)}\n`);
      },
    });
  } finally {
    bar?.stop();
  }
  await writeFiles(opts, mergedResult(result, kept), result.seconds);
}

/** Write the JSON, markdown and figure of `merged`; print the summary. */
async function writeFiles(
  opts: OversmoothingOptions,
  merged: OversmoothingResult,
  seconds: number,
): Promise<void> {
  const jsonPath = join(opts.out, `${NAME}.json`);

  // the files: JSON, markdown, figure
  const command =
    "mpcl oversmoothing" +
    (process.argv.length > 3 ? ` ${process.argv.slice(3).join(" ")}` : "");
  await writeAtomic(jsonPath, `${JSON.stringify(merged, null, 2)}\n`);
  const mdPath = join(opts.out, `${NAME}.md`);
  await writeAtomic(mdPath, markdownReport(merged, command));
  const figure = await writeFigure(
    oversmoothingFigure(merged),
    join(opts.out, NAME),
  );
  const files = [jsonPath, mdPath, figure.spec, figure.svg, figure.png];

  if (opts.json) {
    console.log(
      JSON.stringify({
        metric: "test_accuracy",
        unit: "%",
        summary: merged.summary,
        inputEnergy: merged.inputEnergy,
        seconds,
        files,
      }),
    );
    return;
  }
  console.log(oversmoothingTable(merged));
  console.log(
    `input features energy ${merged.inputEnergy.toPrecision(3)}; ` +
      `${seconds.toFixed(1)} s; wrote ${files.join(", ")}`,
  );
}
