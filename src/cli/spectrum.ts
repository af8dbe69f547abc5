/**
 * `mpcl spectrum`: extreme eigenpairs of a graph's matrix (normalized
 * adjacency by default), from a shipped dataset or an edge-list file.
 *
 * Output: a table of index, eigenvalue and residual `‖A v − λ v‖`, then
 * the solver's counts. `--json` prints instead one JSON object on one
 * line, the last of standard output:
 * `{ "eigenvalues": [...], "residuals": [...], "iterations": n,
 *    "seconds": s, ... }` (a few more descriptive fields follow).
 *
 * `--out FILE` writes the eigenvectors as CSV: a header line
 * `node,v1,...,vk`, then one line per node `i,x_i1,...,x_ik` with node ids
 * 0 .. N − 1 and column j the unit eigenvector of the j-th eigenvalue in
 * the order printed. Numbers are written in the shortest form that reads
 * back to the same float64. The file is written to a temporary name in
 * the same folder and renamed, so it is either complete or absent.
 */

import { randomBytes } from "node:crypto";
import { rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { ConfigError } from "../errors.js";
import { loadDataset } from "../graph/datasets/index.js";
import type { Graph } from "../graph/graph.js";
import { readEdgeList } from "../graph/io.js";
import { type EigshResult, eigsh, type Which } from "../spectral/eigsh.js";
import {
  GRAPH_OPERATOR_KINDS,
  type GraphOperatorKind,
  graphOperator,
} from "../spectral/operators.js";
import { integerOption, table } from "./util.js";

/** The options of `mpcl spectrum`, as commander hands them over. */
interface SpectrumOptions {
  dataset?: string;
  edges?: string;
  operator: string;
  k: string;
  which: string;
  tol: string;
  seed: string;
  maxIterations: string;
  threads?: string;
  out?: string;
  json?: boolean;
}

/** What `mpcl spectrum --json` prints (on one line). */
export interface SpectrumReport {
  eigenvalues: number[];
  residuals: number[];
  iterations: number;
  seconds: number;
  operator: GraphOperatorKind;
  which: Which;
  k: number;
  tol: number;
  numNodes: number;
  matvecs: number;
  method: string;
}

/** Register `mpcl spectrum` on the program. */
export function registerSpectrum(program: Command): void {
  program
    .command("spectrum")
    .description(
      "extreme eigenvalues and eigenvectors of a graph's matrix " +
        "(sparse Lanczos; dense for small graphs)",
    )
    .option("--dataset <name>", "a shipped graph dataset (cora, pubmed, …)")
    .option(
      "--edges <file>",
      "an edge list: one `u v [w]` per line, # comments, undirected",
    )
    .option(
      "--operator <kind>",
      `the matrix: ${GRAPH_OPERATOR_KINDS.join(" | ")}`,
      "normalized-adjacency",
    )
    .option("--k <k>", "number of eigenpairs", "6")
    .option(
      "--which <end>",
      "LA largest, SA smallest, LM largest magnitude",
      "LA",
    )
    .option("--tol <tol>", "relative residual tolerance", "1e-8")
    .option("--seed <seed>", "seed of the random start vectors", "0")
    .option("--max-iterations <n>", "largest number of restarts", "1000")
    .option("--threads <n>", "1 or 2 (default: 2 for large graphs)")
    .option(
      "--out <file>",
      "write the eigenvectors as CSV (header node,v1..vk; N rows)",
    )
    .option("--json", "print one JSON object instead of the table")
    .action(async (opts: SpectrumOptions) => {
      await runSpectrum(opts);
    });
}

/** Read the graph named by `--dataset` or `--edges`. */
async function readGraph(opts: SpectrumOptions): Promise<{
  graph: Graph;
  source: string;
}> {
  const fn = "mpcl spectrum";
  if ((opts.dataset === undefined) === (opts.edges === undefined)) {
    throw new ConfigError(
      `${fn}: expected exactly one of --dataset NAME and --edges FILE`,
    );
  }
  if (opts.edges !== undefined) {
    const path = opts.edges;
    try {
      return { graph: await readEdgeList(path), source: path };
    } catch (err) {
      // a missing or unreadable file is the user's to fix, not a bug
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
        throw new ConfigError(
          `${fn}: cannot read --edges ${path}: ${(err as Error).message}`,
        );
      }
      throw err;
    }
  }
  const name = opts.dataset as string;
  const data = loadDataset(name);
  if (data.kind !== "graph") {
    throw new ConfigError(
      `${fn}: --dataset must name a graph dataset, got ${name} (images)`,
    );
  }
  return { graph: data.graph, source: name };
}

/** Run the command with parsed options. */
async function runSpectrum(opts: SpectrumOptions): Promise<void> {
  const fn = "mpcl spectrum";
  const kind = opts.operator as GraphOperatorKind;
  if (!GRAPH_OPERATOR_KINDS.includes(kind)) {
    throw new ConfigError(
      `${fn}: --operator must be one of ${GRAPH_OPERATOR_KINDS.join(", ")}, ` +
        `got ${JSON.stringify(opts.operator)}`,
    );
  }
  const which = opts.which.toUpperCase() as Which;
  if (which !== "LA" && which !== "SA" && which !== "LM") {
    throw new ConfigError(
      `${fn}: --which must be LA, SA or LM, got ${JSON.stringify(opts.which)}`,
    );
  }
  const k = integerOption("spectrum", "k", opts.k, 1);
  const tol = Number(opts.tol);
  const seed = integerOption("spectrum", "seed", opts.seed, 0);
  const maxIterations = integerOption(
    "spectrum",
    "max-iterations",
    opts.maxIterations,
    1,
  );
  const threads =
    opts.threads === undefined
      ? undefined
      : integerOption("spectrum", "threads", opts.threads, 1);

  // first the graph and its operator
  const { graph, source } = await readGraph(opts);
  const op = graphOperator(graph, kind);

  // then the eigenpairs, with a progress bar on a terminal
  const bar =
    process.stderr.isTTY && !opts.json
      ? new cliProgress.SingleBar(
          {
            format:
              "eigsh [{bar}] {value}/{total} converged, {matvecs} products",
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(k, 0, { matvecs: 0 });
  const start = performance.now();
  let result: EigshResult;
  try {
    result = eigsh(op, k, {
      which,
      tol,
      seed,
      maxIterations,
      threads,
      onProgress: (p) =>
        bar?.update(Math.min(p.locked, k), { matvecs: p.matvecs }),
    });
  } finally {
    bar?.stop();
  }
  const seconds = (performance.now() - start) / 1000;

  if (opts.out !== undefined) {
    await writeVectorsAtomically(opts.out, result, op.size);
  }

  const report: SpectrumReport = {
    eigenvalues: Array.from(result.values),
    residuals: Array.from(result.residuals),
    iterations: result.iterations,
    seconds: Math.round(seconds * 1000) / 1000,
    operator: kind,
    which,
    k,
    tol,
    numNodes: op.size,
    matvecs: result.matvecs,
    method: result.method,
  };
  if (opts.json) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(
    `${source}: ${graph.numNodes} nodes, ${graph.numEdges} stored edges; ` +
      `${kind}, ${k} eigenvalue(s) ${which}, tol ${tol}`,
  );
  console.log(
    table(
      ["index", "eigenvalue", "residual"],
      report.eigenvalues.map((v, j) => [
        j,
        v.toFixed(12),
        report.residuals[j].toExponential(2),
      ]),
    ),
  );
  console.log(
    `${result.method}: ${result.iterations} restart(s), ` +
      `${result.matvecs} products, ${seconds.toFixed(2)} s` +
      (opts.out === undefined ? "" : `; eigenvectors in ${opts.out}`),
  );
}

/**
 * Write the eigenvectors as CSV (format in the file banner) to a
 * temporary file next to `path`, then rename it into place.
 */
async function writeVectorsAtomically(
  path: string,
  result: EigshResult,
  n: number,
): Promise<void> {
  const k = result.values.length;
  const lines: string[] = [
    ["node", ...Array.from({ length: k }, (_, j) => `v${j + 1}`)].join(","),
  ];
  for (let i = 0; i < n; i++) {
    const row = [String(i)];
    for (let j = 0; j < k; j++) row.push(String(result.vectors[i * k + j]));
    lines.push(row.join(","));
  }
  const temp = join(
    dirname(path),
    `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`,
  );
  try {
    await writeFile(temp, `${lines.join("\n")}\n`);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
