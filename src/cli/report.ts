/**
 * `mpcl report`: the main job, on embedded data. It runs the theory
 * checks of `theory/` (Wang et al. 2023), the Figure 1 reproduction
 * among them, a spectral analysis of Cora, and a short GRACE run on Cora
 * with and without one trick of the message-passing view, then writes
 * `<out>/index.html` (one self-contained page: figures inline as SVG,
 * tables, the runtime) and its Markdown twin `<out>/report.md` (figures
 * as PNG files beside it, under `theory/` and `figures/`). Progress goes
 * to standard error; the two paths are printed at the end. The exit
 * status is 1 when a theory check fails.
 *
 * Full run: theory checks at size "full", the top 20 eigenvalues of
 * Cora's largest component and the c + 2 of the whole graph, 40 epochs
 * of each contrastive run with a probe every 10; measured 143 s of CPU
 * (theory 16.5, spectrum 7.8, contrastive 118), nearly all on one
 * thread, so about as long on two free cores. `--quick` (the test
 * suite's): size "small", 8 eigenvalues without the whole-graph solve,
 * 2 epochs; about 22 s of CPU. `--sections` and `--checks` run a part.
 * `--json` prints, as the last line of standard output, one JSON object
 * (see {@link ReportJson}).
 */

import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import {
  type ContrastiveVariantResult,
  contrastiveFigure,
  REPORT_TRICKS,
  type ReportTrick,
  runContrastiveVariants,
  withTrick,
} from "../../experiments/report/contrastive.js";
import {
  type GraphSpectrumSummary,
  graphSpectrumFigure,
  graphSpectrumSummary,
  UNIT_EIGENVALUE_TOLERANCE,
} from "../../experiments/report/spectrum.js";
import {
  type CheckResult,
  formatNumber,
  formatValue,
  runChecks,
  selectChecks,
  THEORY_CHECKS,
  type TheoryCheck,
} from "../../theory/index.js";
import { loadContrastiveConfig } from "../contrastive/config.js";
import { contrastiveData } from "../contrastive/trainer.js";
import { ConfigError } from "../errors.js";
import { loadCora } from "../graph/datasets/index.js";
import type {
  ReportBlock,
  ReportCell,
  ReportDocument,
  ReportSection,
} from "../report/document.js";
import {
  readReportFigure,
  writeReport,
  writeReportFigure,
} from "../report/write.js";
import { type RuntimeInfo, runtimeInfo } from "./info.js";

/** The parts of the report that can be run. */
export const REPORT_SECTIONS = ["theory", "spectrum", "contrastive"] as const;

/** One part of the report. */
export type ReportSectionName = (typeof REPORT_SECTIONS)[number];

/** The options of `mpcl report`, as commander hands them over. */
export interface ReportOptions {
  out: string;
  quick?: boolean;
  json?: boolean;
  seed: string;
  trick: string;
  epochs?: string;
  sections: string;
  checks?: string;
  perturbation: string;
}

/** What `mpcl report --json` prints (on one line). */
export interface ReportJson {
  /** Path of `index.html`. */
  html: string;
  /** Path of `report.md`. */
  markdown: string;
  /** Whether every theory check passed (true when none ran). */
  pass: boolean;
  quick: boolean;
  seed: number;
  theory: { id: string; pass: boolean; seconds: number }[];
  spectrum: {
    components: number;
    unitMultiplicity: number | null;
    topEigenvalues: number[];
    louvainCommunities: number;
    nmi: number;
  } | null;
  contrastive: {
    name: string;
    epochs: number;
    testAccuracy: number;
    seconds: number;
    cpuSeconds: number;
  }[];
  /** Wall-clock and CPU seconds of each part that ran, and in total. */
  timings: Record<string, { seconds: number; cpuSeconds: number }>;
  /** Number of figures in the page. */
  figures: number;
}

/** The repository's copy of the GRACE config on Cora. */
const GRACE_CONFIG = fileURLToPath(
  new URL("../../experiments/configs/cora-grace.json", import.meta.url),
);

/** Register `mpcl report` on the program. */
export function registerReport(program: Command): void {
  program
    .command("report")
    .description(
      "the main job: theory checks, Figure 1, Cora's spectrum and a short " +
        "contrastive run with and without a trick, as report/index.html " +
        "and report/report.md",
    )
    .option(
      "--out <dir>",
      "folder of index.html, report.md and figures",
      "report",
    )
    .option("--quick", "small sizes (seconds instead of minutes)")
    .option("--json", "print one JSON object as the last line")
    .option("--seed <seed>", "seed of every part", "0")
    .option(
      "--trick <name>",
      `the contrastive trick compared: ${REPORT_TRICKS.join(" | ")}`,
      "knn",
    )
    .option("--epochs <n>", "contrastive epochs (default 40, quick 2)")
    .option(
      "--sections <list>",
      `comma-separated parts to run: ${REPORT_SECTIONS.join(", ")}`,
      REPORT_SECTIONS.join(","),
    )
    .option("--checks <ids>", "comma-separated theory check ids (default all)")
    .option(
      "--perturbation <x>",
      "a relative error put into every theory prediction, to see a failure",
      "0",
    )
    .action(async (opts: ReportOptions) => {
      await runReport(opts);
    });
}

/** The options checked and converted (see {@link resolveReportOptions}). */
export interface ResolvedReportOptions {
  out: string;
  quick: boolean;
  json: boolean;
  seed: number;
  trick: ReportTrick;
  epochs: number;
  sections: Set<ReportSectionName>;
  checks: TheoryCheck[];
  perturbation: number;
}

/**
 * Check and convert the command's options: `--seed` an integer ≥ 0,
 * `--trick` one of {@link REPORT_TRICKS}, `--epochs` an integer ≥ 1
 * (default 40, with `--quick` 2), `--sections` a list of
 * {@link REPORT_SECTIONS}, `--checks` ids of theory checks (default all),
 * `--perturbation` finite.
 *
 * @throws ConfigError naming the option, the expected and the received
 *   value.
 */
export function resolveReportOptions(
  opts: ReportOptions,
): ResolvedReportOptions {
  const fn = "mpcl report";
  const seed = Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0) {
    throw new ConfigError(
      `${fn}: --seed must be an integer >= 0, got ${JSON.stringify(opts.seed)}`,
    );
  }
  if (!(REPORT_TRICKS as readonly string[]).includes(opts.trick)) {
    throw new ConfigError(
      `${fn}: --trick must be one of ${REPORT_TRICKS.join(", ")}, got ` +
        JSON.stringify(opts.trick),
    );
  }
  const quick = opts.quick === true;
  const epochs = Number(opts.epochs ?? (quick ? 2 : 40));
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new ConfigError(
      `${fn}: --epochs must be an integer >= 1, got ` +
        JSON.stringify(opts.epochs),
    );
  }
  const sections = new Set<ReportSectionName>();
  for (const part of opts.sections.split(",").map((s) => s.trim())) {
    if (!(REPORT_SECTIONS as readonly string[]).includes(part)) {
      throw new ConfigError(
        `${fn}: --sections takes ${REPORT_SECTIONS.join(", ")}, got ` +
          JSON.stringify(part),
      );
    }
    sections.add(part as ReportSectionName);
  }
  const checks = selectChecks(
    THEORY_CHECKS,
    opts.checks
      ?.split(",")
      .map((id) => id.trim())
      .filter((id) => id !== ""),
  );
  const perturbation = Number(opts.perturbation);
  if (!Number.isFinite(perturbation)) {
    throw new ConfigError(
      `${fn}: --perturbation must be a finite number, got ` +
        JSON.stringify(opts.perturbation),
    );
  }
  return {
    out: opts.out,
    quick,
    json: opts.json === true,
    seed,
    trick: opts.trick as ReportTrick,
    epochs,
    sections,
    checks,
    perturbation,
  };
}

/** A progress line on standard error. */
function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** CPU seconds of this process (all threads) so far. */
function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Measure the wall-clock and CPU seconds of `work`. */
async function timed<T>(
  timings: ReportJson["timings"],
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  const wall = performance.now();
  const cpu = cpuSeconds();
  const result = await work();
  timings[name] = {
    seconds: (performance.now() - wall) / 1000,
    cpuSeconds: cpuSeconds() - cpu,
  };
  return result;
}

/** A number with `digits` decimals, as a table cell. */
const fixed = (x: number, digits: number) => Number(x.toFixed(digits));

/** A verdict cell. */
const verdict = (pass: boolean): ReportCell => ({
  text: pass ? "yes" : "NO",
  verdict: pass ? "pass" : "fail",
});

/** Run the whole job. */
async function runReport(raw: ReportOptions): Promise<void> {
  const opts = resolveReportOptions(raw);
  const { out, quick, seed } = opts;
  const started = performance.now();
  const startedCpu = cpuSeconds();
  const date = new Date();
  const loadBefore = loadavg()[0];
  const timings: ReportJson["timings"] = {};
  const runtime = await runtimeInfo();
  progress(
    `mpcl report (${quick ? "quick" : "full"}, seed ${seed}) on ` +
      `${runtime.backend} into ${out}`,
  );

  const sections: ReportSection[] = [];
  let theoryResults: { result: CheckResult; seconds: number }[] = [];
  let spectrum: GraphSpectrumSummary | null = null;
  let contrastive: ContrastiveVariantResult[] = [];

  // the theory checks, Figure 1 among them
  if (opts.sections.has("theory")) {
    const built = await timed(timings, "theory", () =>
      theorySections(opts, (r) => {
        theoryResults = r;
      }),
    );
    sections.push(...built);
  }

  // the spectrum of Cora
  if (opts.sections.has("spectrum")) {
    const built = await timed(timings, "spectrum", async () => {
      progress("spectrum: Cora's components, eigenvalues, communities…");
      const cora = loadCora();
      spectrum = graphSpectrumSummary(cora.graph, cora.labels, {
        k: quick ? 8 : 20,
        multiplicity: !quick,
        seed,
      });
      return spectrumSection(out, spectrum);
    });
    sections.push(built);
  }

  // the contrastive runs
  if (opts.sections.has("contrastive")) {
    const built = await timed(timings, "contrastive", async () => {
      const config = loadContrastiveConfig(GRACE_CONFIG);
      const data = contrastiveData(config, loadCora());
      const baseline = {
        name: "GRACE",
        description: "the config as written, no trick",
        config,
      };
      const every = opts.epochs >= 20 ? 10 : 0;
      const variants = [baseline, withTrick(config, opts.trick)];

      // a bar on a terminal, a line every 10 epochs otherwise
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              format: "contrastive {name} [{bar}] {value}/{total} epochs",
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
      bar?.start(opts.epochs * variants.length, 0, { name: "" });
      try {
        contrastive = runContrastiveVariants(variants, data, {
          epochs: opts.epochs,
          seed,
          evaluateEvery: every,
          onEpoch: (name, event) => {
            bar?.increment({ name });
            if (bar !== null) return;
            if (event.epoch % 10 === 0 || event.epoch === event.epochs) {
              progress(
                `contrastive ${name}: epoch ${event.epoch}/${event.epochs}` +
                  (event.evaluation === undefined
                    ? ""
                    : ", probe accuracy " +
                      event.evaluation.testAccuracy.toFixed(3)),
              );
            }
          },
        });
      } finally {
        bar?.stop();
      }
      return contrastiveSection(out, opts, contrastive);
    });
    sections.push(built);
  }

  // the runtime, last
  const total = {
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSeconds() - startedCpu,
  };
  timings.total = total;
  sections.push(
    runtimeSection(runtime, {
      date,
      seed,
      quick,
      timings,
      loadBefore,
      loadAfter: loadavg()[0],
    }),
  );

  // the summary, first
  const pass = theoryResults.every((r) => r.result.pass);
  sections.unshift(
    summarySection({
      theory: theoryResults.map((r) => r.result),
      spectrum: spectrum as GraphSpectrumSummary | null,
      contrastive,
      total,
      backend: runtime.backend,
    }),
  );

  // the page and its Markdown twin
  const figures = sections
    .flatMap((s) => s.blocks)
    .filter((b) => b.kind === "figure").length;
  const doc: ReportDocument = {
    title: "mpcl report",
    subtitle:
      `Graph neural networks and contrastive learning on one ` +
      `message-passing operator. ${date.toISOString()}, ` +
      `${quick ? "quick" : "full"} run, seed ${seed}; ` +
      (theoryResults.length === 0
        ? "no theory check ran."
        : pass
          ? `all ${theoryResults.length} theory checks pass.`
          : "a theory check FAILS."),
    sections,
  };
  const written = await writeReport(doc, out);

  const s = spectrum as GraphSpectrumSummary | null;
  const json: ReportJson = {
    html: written.html,
    markdown: written.markdown,
    pass,
    quick,
    seed,
    theory: theoryResults.map((r) => ({
      id: r.result.id,
      pass: r.result.pass,
      seconds: r.seconds,
    })),
    spectrum:
      s === null
        ? null
        : {
            components: s.components.count,
            unitMultiplicity: s.multiplicity?.measured ?? null,
            topEigenvalues: Array.from(s.largestComponent.eigenvalues),
            louvainCommunities: s.communities.count,
            nmi: s.communities.nmi,
          },
    contrastive: contrastive.map((r) => ({
      name: r.name,
      epochs: r.epochs,
      testAccuracy: r.testAccuracy,
      seconds: r.seconds,
      cpuSeconds: r.cpuSeconds,
    })),
    timings,
    figures,
  };
  progress(
    `done in ${total.seconds.toFixed(1)} s (${total.cpuSeconds.toFixed(1)} ` +
      "s of CPU)",
  );
  if (opts.json) {
    console.log(JSON.stringify(json));
  } else {
    console.log(`report: ${written.html}`);
    console.log(`markdown: ${written.markdown}`);
  }
  if (!pass) process.exitCode = 1;
}

/** The first section: one line per part that ran. */
function summarySection(run: {
  theory: readonly CheckResult[];
  spectrum: GraphSpectrumSummary | null;
  contrastive: readonly ContrastiveVariantResult[];
  total: { seconds: number; cpuSeconds: number };
  backend: string;
}): ReportSection {
  const items: string[] = [];
  if (run.theory.length > 0) {
    const failed = run.theory.filter((r) => !r.pass).map((r) => r.id);
    items.push(
      failed.length === 0
        ? `Theory: all ${run.theory.length} checks pass.`
        : `Theory: check(s) ${failed.join(", ")} FAIL, ` +
            `${run.theory.length - failed.length} of ${run.theory.length} pass.`,
    );
  }
  const figure1 = run.theory.find((r) => r.id === "9")?.details;
  if (figure1 !== undefined) {
    const accuracy = (panel: string) =>
      String(figure1[`meanAccuracy ${panel}`] ?? "?");
    items.push(
      "Figure 1: linear-probe accuracy " +
        `${accuracy("initial")} on the initial features, ` +
        `${accuracy("alignment only")} after alignment alone, ` +
        `${accuracy("alignment + uniformity (InfoNCE, sphere)")} with ` +
        "InfoNCE's uniformity.",
    );
  }
  const s = run.spectrum;
  if (s !== null) {
    items.push(
      `Cora: ${s.components.count} connected components` +
        (s.multiplicity === null
          ? ""
          : `, eigenvalue 1 of Ā ${s.multiplicity.measured} times`) +
        `; spectral gap of the largest component ` +
        `${formatNumber(s.largestComponent.gaps[0])}; ` +
        `${s.communities.count} Louvain communities, NMI ` +
        `${s.communities.nmi.toFixed(3)} with the classes.`,
    );
  }
  const [base, trick] = run.contrastive;
  if (base !== undefined && trick !== undefined) {
    const delta = (trick.testAccuracy - base.testAccuracy) * 100;
    items.push(
      `Contrastive: GRACE on Cora after ${base.epochs} epochs, probe ` +
        `accuracy ${base.testAccuracy.toFixed(3)}; with ${trick.name} ` +
        `${trick.testAccuracy.toFixed(3)} (${delta >= 0 ? "+" : ""}` +
        `${delta.toFixed(1)} points, one seed).`,
    );
  }
  items.push(
    `The whole job: ${run.total.seconds.toFixed(1)} s wall-clock, ` +
      `${run.total.cpuSeconds.toFixed(1)} s of CPU, on ${run.backend}.`,
  );
  return {
    id: "summary",
    title: "Summary",
    blocks: [{ kind: "list", items }],
  };
}

/** The theory checks' section and the Figure 1 section. */
async function theorySections(
  opts: ResolvedReportOptions,
  keep: (results: { result: CheckResult; seconds: number }[]) => void,
): Promise<ReportSection[]> {
  const folder = join(opts.out, "theory");
  const seconds = new Map<string, number>();
  const run = await runChecks(opts.checks, {
    out: folder,
    size: opts.quick ? "small" : "full",
    seed: opts.seed,
    perturbation: opts.perturbation,
    onProgress: (event) => {
      if (event.phase === "start") {
        progress(`theory: check ${event.check.id}, ${event.check.title}…`);
      } else {
        seconds.set(event.check.id, event.seconds ?? 0);
        if (event.result?.pass === false) {
          progress(`theory: check ${event.check.id} FAILS`);
        }
      }
    },
  });
  keep(
    run.results.map((r) => ({ result: r, seconds: seconds.get(r.id) ?? 0 })),
  );

  // the table of every check, then the figures of all but Figure 1
  const titles = new Map(THEORY_CHECKS.map((c) => [c.id, c.title]));
  const blocks: ReportBlock[] = [
    {
      kind: "paragraph",
      text:
        "Each check states one result of Wang et al. (2023), “A Message " +
        "Passing Perspective on Learning Dynamics of Contrastive " +
        "Learning”, runs it on seeded synthetic data at size " +
        `\`${opts.quick ? "small" : "full"}\`, and compares the number ` +
        "the theory predicts with the number measured. " +
        `The full report of the checks is \`theory/report.md\`.`,
    },
    {
      kind: "table",
      header: [
        "id",
        "check",
        "predicted",
        "measured",
        "tolerance",
        "pass",
        "s",
      ],
      rows: run.results.map((r) => [
        r.id,
        titles.get(r.id) ?? "",
        formatValue(r.predicted),
        formatValue(r.measured),
        r.tolerance,
        verdict(r.pass),
        (seconds.get(r.id) ?? 0).toFixed(1),
      ]),
    },
  ];
  let figure1: ReportBlock[] = [];
  for (const r of run.results) {
    for (const f of r.figures) {
      const block = await readReportFigure(
        opts.out,
        join(folder, f.name),
        `theory-${f.name}`,
        `Check ${r.id}: ${titles.get(r.id) ?? ""}. ${r.claim}`,
      );
      if (r.id === "9") figure1.push(block);
      else blocks.push(block);
    }
  }
  const theory: ReportSection = {
    id: "theory",
    title: "Theory checks",
    blocks,
  };

  // Figure 1: the accuracy and spread of every panel
  const result = run.results.find((r) => r.id === "9");
  if (result === undefined) return [theory];
  const details = result.details ?? {};
  const panelNames = Object.keys(details)
    .filter((key) => key.startsWith("meanAccuracy "))
    .map((key) => key.slice("meanAccuracy ".length));
  figure1 = [
    {
      kind: "paragraph",
      text:
        "The paper's Figure 1: two Gaussian classes in the plane, the " +
        `ε-ball augmentation graph (radius ${details.radius}), ` +
        `${details.steps} message-passing steps of size ` +
        `${details.stepSize} from uniform random features; ` +
        `${details.n} points, seeds ${details.seeds}. Alignment alone ` +
        "collapses each connected component; InfoNCE's uniformity keeps " +
        "the features spread.",
    },
    {
      kind: "table",
      header: [
        "panel",
        "linear-probe accuracy (mean over seeds)",
        "within-component spread (per seed)",
      ],
      rows: panelNames.map((name) => [
        name,
        String(details[`meanAccuracy ${name}`]),
        String(details[`spread ${name}`] ?? "—"),
      ]),
      caption:
        `Verdict: ${result.pass ? "pass" : "FAIL"}. Predicted: ` +
        `${formatValue(result.predicted)}. Measured: ` +
        `${formatValue(result.measured)}.`,
    },
    ...figure1,
  ];
  return [
    theory,
    { id: "figure1", title: "Figure 1 reproduction", blocks: figure1 },
  ];
}

/** The section of Cora's spectrum. */
async function spectrumSection(
  out: string,
  s: GraphSpectrumSummary,
): Promise<ReportSection> {
  const lc = s.largestComponent;
  const rows: ReportCell[][] = [
    ["nodes, stored edges", `${s.numNodes}, ${s.numEdges}`],
    ["connected components c", s.components.count],
    ["largest component", `${s.components.largest} nodes`],
  ];
  if (s.multiplicity !== null) {
    const m = s.multiplicity;
    rows.push(
      [
        `multiplicity of λ = 1 of Ā (predicted c = ${m.predicted})`,
        `${m.measured} among the top ${m.predicted + 2}`,
      ],
      ["next eigenvalue λ_(c+1)", fixed(m.nextEigenvalue, 6)],
      ["multiplicity check", verdict(m.measured === m.predicted)],
    );
  }
  rows.push(
    [
      `top ${lc.eigenvalues.length} eigenvalues of Ā, largest component`,
      Array.from(lc.eigenvalues, (v) => v.toFixed(4)).join(", "),
    ],
    ["spectral gap 1 − λ_2", formatNumber(lc.gaps[0])],
    [
      `largest gap among the top ${lc.eigenvalues.length}`,
      `${formatNumber(lc.gaps[lc.largestGapAt - 1])}, below ` +
        `λ_${lc.largestGapAt}`,
    ],
    ["largest residual ‖Āv − λv‖", formatNumber(lc.maxResidual)],
    [
      "Louvain communities (modularity)",
      `${s.communities.count} (${s.communities.modularity.toFixed(3)})`,
    ],
    ["NMI communities vs labels", fixed(s.communities.nmi, 3)],
    ["ARI communities vs labels", fixed(s.communities.ari, 3)],
  );
  const figure = await writeReportFigure(
    graphSpectrumFigure(s, "Cora"),
    out,
    "figures/cora-spectrum",
    "cora-spectrum",
    "The top eigenvalues of Cora's normalized adjacency on its largest " +
      "component (left) and the gaps between consecutive ones (right).",
  );
  return {
    id: "spectrum",
    title: "Spectral analysis of Cora",
    blocks: [
      {
        kind: "paragraph",
        text:
          "Ā = D^-1/2 A D^-1/2 of Cora's citation graph. Alignment alone " +
          "converges to Ā's top eigenspace, whose eigenvalue 1 has one " +
          "eigenvector per connected component; its spectral gap sets the " +
          "speed. Eigenvalues from `eigsh` (block Lanczos, tolerance " +
          `1e-8); λ counts as 1 above 1 − ${UNIT_EIGENVALUE_TOLERANCE}.`,
      },
      { kind: "table", header: ["quantity", "value"], rows },
      figure,
    ],
  };
}

/** The section of the contrastive runs. */
async function contrastiveSection(
  out: string,
  opts: ResolvedReportOptions,
  results: readonly ContrastiveVariantResult[],
): Promise<ReportSection> {
  const figure = await writeReportFigure(
    contrastiveFigure(results, `GRACE on Cora, ${opts.epochs} epochs`),
    out,
    "figures/contrastive",
    "contrastive",
    "Linear-probe test accuracy of the frozen encoder (left) and the " +
      "norm of the parameter gradient per epoch (right), with and " +
      "without the trick.",
  );
  const [base] = results;
  return {
    id: "contrastive",
    title: "Contrastive run on Cora, with and without a trick",
    blocks: [
      {
        kind: "paragraph",
        text:
          "GRACE (`experiments/configs/cora-grace.json`: 2-layer GCN, two " +
          "views of edge dropping and feature masking, τ = 0.4, Adam) " +
          `trained for ${opts.epochs} epochs instead of 200 (a short ` +
          "run: the published 81.9 % needs the full schedule), seed " +
          `${opts.seed}, the same for both runs. The trick: ` +
          `${results[1]?.description ?? "none"}. Accuracy of an ` +
          "L2-regularised logistic probe on the frozen, l2-normalised " +
          "encoder features, public split, λ chosen on validation.",
      },
      {
        kind: "table",
        header: [
          "run",
          "epochs",
          "test accuracy",
          "validation accuracy",
          "vs GRACE",
          "wall s",
          "CPU s",
        ],
        rows: results.map((r) => [
          r.name,
          r.epochs,
          fixed(r.testAccuracy, 3),
          fixed(r.valAccuracy, 3),
          r === base
            ? "—"
            : `${r.testAccuracy >= base.testAccuracy ? "+" : ""}` +
              `${((r.testAccuracy - base.testAccuracy) * 100).toFixed(1)} pt`,
          fixed(r.seconds, 1),
          fixed(r.cpuSeconds, 1),
        ]),
        caption:
          "One seed: differences of a point or two are within the " +
          "seed-to-seed spread of GRACE on Cora.",
      },
      figure,
    ],
  };
}

/** The section of the runtime facts and timings. */
function runtimeSection(
  info: RuntimeInfo,
  run: {
    date: Date;
    seed: number;
    quick: boolean;
    timings: ReportJson["timings"];
    loadBefore: number;
    loadAfter: number;
  },
): ReportSection {
  const rows: ReportCell[][] = [
    ["date", run.date.toISOString()],
    ["mode, seed", `${run.quick ? "quick" : "full"}, ${run.seed}`],
    ["mpcl", info.mpcl],
    ["Node.js", info.node],
    [
      "tensor backend",
      `${info.backend}` +
        (info.nativeTensorflow ? ` (${info.nativeTensorflow})` : "") +
        `, ${info.backendThreads || "native"} thread(s)`,
    ],
    ["sparse kernels", `${info.kernels}, ${info.kernelThreads} thread(s)`],
    ...Object.entries(info.versions).map(([name, version]): ReportCell[] => [
      name,
      version,
    ]),
    [
      "machine",
      `${cpus().length} CPU(s), ${process.platform}/${process.arch}; load ` +
        `average ${run.loadBefore.toFixed(1)} at the start, ` +
        `${run.loadAfter.toFixed(1)} at the end`,
    ],
  ];
  return {
    id: "runtime",
    title: "Runtime",
    blocks: [
      { kind: "table", header: ["what", "value"], rows },
      {
        kind: "table",
        header: ["part", "wall-clock s", "CPU s"],
        rows: Object.entries(run.timings).map(([name, t]) => [
          name,
          fixed(t.seconds, 1),
          fixed(t.cpuSeconds, 1),
        ]),
        caption:
          "CPU seconds count every thread of the process; on a machine " +
          "shared with other work the wall-clock time grows, the CPU time " +
          "does not.",
      },
    ],
  };
}
