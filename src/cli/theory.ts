/**
 * `mpcl theory`: run the executable checks of `theory/` (one per result
 * of Wang et al. 2023), write `report.md` and the figures into a folder
 * (default `report/theory`), print a table of id, pass, predicted,
 * measured and tolerance, and exit with status 1 when a check fails.
 *
 * `--json` prints instead, as the last line of standard output, one JSON
 * object: `{ "checks": [{ "id", "pass", "predicted", "measured" }],
 * "figures": [...] }` with the PNG path of every figure written.
 */

import type { Command } from "commander";
import {
  formatValue,
  runChecks,
  selectChecks,
  THEORY_CHECKS,
} from "../../theory/index.js";
import { initBackend } from "../backend.js";
import { ConfigError } from "../errors.js";
import { table } from "./util.js";

/** The options of `mpcl theory`, as commander hands them over. */
interface TheoryOptions {
  only?: string;
  out: string;
  size: string;
  seed: string;
  perturbation: string;
  json?: boolean;
}

/** What `mpcl theory --json` prints (on one line). */
export interface TheoryReport {
  checks: {
    id: string;
    pass: boolean;
    predicted: number | string;
    measured: number | string;
  }[];
  figures: string[];
}

/** Register `mpcl theory` on the program. */
export function registerTheory(program: Command): void {
  program
    .command("theory")
    .description(
      "run the theory checks: predicted against measured, with figures " +
        "and report.md",
    )
    .option("--only <ids>", "comma-separated check ids, e.g. 1,7")
    .option("--out <dir>", "folder of report.md and figures", "report/theory")
    .option("--size <size>", "small | full", "full")
    .option("--seed <seed>", "seed of every check", "0")
    .option(
      "--perturbation <x>",
      "a relative error put into every prediction, to see checks fail",
      "0",
    )
    .option("--json", "print one JSON object as the last line")
    .action(async (opts: TheoryOptions) => {
      await runTheory(opts);
    });
}

/** Run the selected checks and print the outcome. */
async function runTheory(opts: TheoryOptions): Promise<void> {
  if (opts.size !== "small" && opts.size !== "full") {
    throw new ConfigError(
      `mpcl theory: --size must be small or full, got ` +
        JSON.stringify(opts.size),
    );
  }
  const seed = Number(opts.seed);
  if (!Number.isInteger(seed)) {
    throw new ConfigError(
      `mpcl theory: --seed must be an integer, got ${JSON.stringify(opts.seed)}`,
    );
  }
  const perturbation = Number(opts.perturbation);
  if (!Number.isFinite(perturbation)) {
    throw new ConfigError(
      "mpcl theory: --perturbation must be a finite number, got " +
        JSON.stringify(opts.perturbation),
    );
  }
  const ids =
    opts.only === undefined
      ? undefined
      : opts.only
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
  const checks = selectChecks(THEORY_CHECKS, ids);

  await initBackend();
  const run = await runChecks(checks, {
    out: opts.out,
    size: opts.size,
    seed,
    perturbation,
    onProgress: (event) => {
      if (opts.json) return;
      if (event.phase === "start") {
        process.stderr.write(
          `check ${event.check.id}: ${event.check.title}…\n`,
        );
      }
    },
  });

  if (opts.json) {
    const report: TheoryReport = {
      checks: run.results.map((r) => ({
        id: r.id,
        pass: r.pass,
        predicted: r.predicted,
        measured: r.measured,
      })),
      figures: run.figures,
    };
    console.log(JSON.stringify(report));
  } else {
    console.log(
      table(
        ["id", "pass", "predicted", "measured", "tolerance"],
        run.results.map((r) => [
          r.id,
          r.pass ? "yes" : "NO",
          formatValue(r.predicted),
          formatValue(r.measured),
          r.tolerance,
        ]),
      ),
    );
    console.log(`report: ${run.report}`);
  }
  if (!run.pass) process.exitCode = 1;
}
