/**
 * Benchmark of the sparse eigensolver: the top k = 16 eigenpairs (largest
 * algebraic) of the normalized adjacency Ā = D^-1/2 A D^-1/2 of Cora,
 * PubMed and a random graph (N = 100,000 nodes, 1,000,000 undirected
 * edges), by mpcl's `eigsh` and, in the same run on the same matrices at
 * the same tolerance, by scipy.sparse.linalg.eigsh (ARPACK), through
 * experiments/bench/eigsh_ref.py under /usr/bin/python3. For graphs of at
 * most 5,000 nodes numpy's dense `eigvalsh` gives the exact values too.
 *
 * The matrices are written as float64 CSR files (mpcl's own entries), so
 * both sides solve exactly the same matrix. The runs are interleaved
 * (scipy, mpcl, mpcl on one thread, per problem and round), so that the
 * load of a shared machine weighs on all alike; times are medians.
 *
 *   npx tsx experiments/bench/eigsh.ts [--k 16] [--tol 1e-8] [--runs 3]
 *     [--nodes 100000] [--edges 1000000] [--seed 1]
 *     [--only cora,pubmed,random] [--python /usr/bin/python3]
 *     [--no-python] [--no-single-thread] [--update-readme]
 *     [--json results.json]
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadDataset } from "../../src/graph/datasets/index.js";
import { Graph } from "../../src/graph/graph.js";
import { mulberry32 } from "../../src/random.js";
import { eigsh } from "../../src/spectral/eigsh.js";
import {
  normalizedAdjacencyOperator,
  type SparseOperator,
} from "../../src/spectral/operators.js";

const { values: opts } = parseArgs({
  options: {
    k: { type: "string", default: "16" },
    tol: { type: "string", default: "1e-8" },
    runs: { type: "string", default: "3" },
    nodes: { type: "string", default: "100000" },
    edges: { type: "string", default: "1000000" },
    seed: { type: "string", default: "1" },
    only: { type: "string", default: "cora,pubmed,random" },
    python: { type: "string", default: "/usr/bin/python3" },
    "no-python": { type: "boolean", default: false },
    "no-single-thread": { type: "boolean", default: false },
    "update-readme": { type: "boolean", default: false },
    json: { type: "string" },
  },
});
const k = Number(opts.k);
const tol = Number(opts.tol);
const runs = Number(opts.runs);
const wanted = new Set(opts.only.split(","));

/** One matrix to solve. */
interface Problem {
  name: string;
  label: string;
  op: SparseOperator;
}

/** Timings and values of one solver on one problem. */
interface Series {
  seconds: number[];
  matvecs: number[];
  eigenvalues: number[];
  threads?: number;
}

/**
 * G(n, m): m distinct undirected pairs drawn uniformly (no self-loops),
 * stored both ways.
 */
function randomGraph(n: number, m: number, seed: number): Graph {
  const next = mulberry32(seed);
  const seen = new Set<number>();
  const src = new Int32Array(2 * m);
  const dst = new Int32Array(2 * m);
  let e = 0;
  while (seen.size < m) {
    const u = Math.floor(next() * n);
    const v = Math.floor(next() * n);
    if (u === v) continue;
    const key = Math.min(u, v) * n + Math.max(u, v);
    if (seen.has(key)) continue;
    seen.add(key);
    src[e] = u;
    dst[e++] = v;
    src[e] = v;
    dst[e++] = u;
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

/** The median of a list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Largest |a_i − b_i| over two descending lists. */
function maxDifference(a: number[], b: number[]): number {
  let worst = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return a.length === b.length ? worst : Number.POSITIVE_INFINITY;
}

/** Write an operator's float64 CSR in the format eigsh_ref.py reads. */
function writeCSR(path: string, op: SparseOperator): void {
  const { rowPtr, colIdx, values } = op.toCSR();
  const header = new Int32Array([op.size, colIdx.length]);
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from(header.buffer),
      Buffer.from(rowPtr.buffer, rowPtr.byteOffset, rowPtr.byteLength),
      Buffer.from(colIdx.buffer, colIdx.byteOffset, colIdx.byteLength),
      Buffer.from(values.buffer, values.byteOffset, values.byteLength),
    ]),
  );
}

/** The Python reference process, one JSON line per request. */
class Reference {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];
  private readonly buffered: string[] = [];

  constructor(python: string, dir: string) {
    const script = fileURLToPath(new URL("eigsh_ref.py", import.meta.url));
    this.child = spawn(python, [script, "--dir", dir], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.lines = createInterface({ input: this.child.stdout! });
    this.lines.on("line", (line) => {
      const waiter = this.pending.shift();
      if (waiter) waiter(line);
      else this.buffered.push(line);
    });
    this.child.on("exit", () => {
      for (const waiter of this.pending.splice(0)) waiter("");
    });
  }

  /** The next line of output ("" when the process ended). */
  private next(): Promise<string> {
    const line = this.buffered.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.child.exitCode !== null) return Promise.resolve("");
    return new Promise((resolve) => this.pending.push(resolve));
  }

  /** The first message (versions), or null when Python cannot run. */
  async hello(): Promise<Record<string, string> | null> {
    const line = await this.next();
    if (line === "") return null;
    return (JSON.parse(line) as { versions: Record<string, string> }).versions;
  }

  /** Send one command and parse the answer. */
  async ask(command: string): Promise<Record<string, unknown>> {
    this.child.stdin!.write(`${command}\n`);
    const line = await this.next();
    if (line === "") return { error: "the Python process ended" };
    return JSON.parse(line) as Record<string, unknown>;
  }

  close(): void {
    this.child.stdin!.end("quit\n");
  }
}

// first the problems, written where Python can read them
const problems: Problem[] = [];
for (const name of ["cora", "pubmed"] as const) {
  if (!wanted.has(name)) continue;
  const data = loadDataset(name);
  problems.push({
    name,
    label: `${name === "cora" ? "Cora" : "PubMed"} (N = ${data.numNodes})`,
    op: normalizedAdjacencyOperator(data.graph),
  });
}
if (wanted.has("random")) {
  const n = Number(opts.nodes);
  const m = Number(opts.edges);
  problems.push({
    name: "random",
    label: `random G(n, m), N = ${n}, ${m} edges`,
    op: normalizedAdjacencyOperator(randomGraph(n, m, Number(opts.seed))),
  });
}
const dir = mkdtempSync(join(tmpdir(), "mpcl-eigsh-bench-"));
for (const p of problems) writeCSR(join(dir, `${p.name}.csr`), p.op);

// then the reference process
const loadBefore = loadavg()[0];
let reference: Reference | null = null;
let versions: Record<string, string> | null = null;
if (!opts["no-python"]) {
  reference = new Reference(opts.python, dir);
  versions = await reference.hello();
  if (versions === null) {
    console.log(
      "scipy is not available: mpcl's numbers only. Install it with " +
        "apt-get update && apt-get install -y python3-scipy",
    );
    reference = null;
  }
}

/** mpcl's eigsh once; seconds, products, values (descending). */
function runMpcl(
  p: Problem,
  seed: number,
  threads: number | undefined,
): { seconds: number; matvecs: number; eigenvalues: number[] } {
  const start = performance.now();
  const res = eigsh(p.op, k, { which: "LA", tol, seed, threads });
  const seconds = (performance.now() - start) / 1000;
  return {
    seconds,
    matvecs: res.matvecs,
    eigenvalues: Array.from(res.values),
  };
}

/** Append one run to a series. */
function record(
  series: Series,
  run: { seconds: number; matvecs: number; eigenvalues: number[] },
): void {
  series.seconds.push(run.seconds);
  series.matvecs.push(run.matvecs);
  series.eigenvalues = run.eigenvalues;
}

// a warm-up round on the smallest problem (JIT, Python imports)
runMpcl(problems[0], 0, undefined);
if (reference !== null) {
  await reference.ask(`run ${problems[0].name} ${k} ${tol} 0`);
}

// the interleaved rounds
const results = problems.map((p) => ({
  problem: p,
  scipy: { seconds: [], matvecs: [], eigenvalues: [] } as Series,
  mpcl: { seconds: [], matvecs: [], eigenvalues: [] } as Series,
  single: null as Series | null,
  dense: null as number[] | null,
  errors: [] as string[],
}));
for (let round = 0; round < runs; round++) {
  for (const r of results) {
    const p = r.problem;
    const seed = round + 1;
    if (reference !== null) {
      const answer = await reference.ask(`run ${p.name} ${k} ${tol} ${seed}`);
      if (typeof answer.error === "string") r.errors.push(answer.error);
      else record(r.scipy, answer as unknown as Parameters<typeof record>[1]);
    }
    const threads =
      p.op.size >= 50_000 ? Math.min(2, availableParallelism()) : 1;
    r.mpcl.threads = threads;
    record(r.mpcl, runMpcl(p, seed, threads));
    if (threads > 1 && !opts["no-single-thread"]) {
      r.single ??= { seconds: [], matvecs: [], eigenvalues: [], threads: 1 };
      record(r.single, runMpcl(p, seed, 1));
    }
    console.error(
      `round ${round + 1}/${runs} ${p.name}: scipy ` +
        `${r.scipy.seconds.at(-1)?.toFixed(2) ?? "–"} s, mpcl ` +
        `${r.mpcl.seconds.at(-1)?.toFixed(2)} s` +
        (r.single ? `, 1 thread ${r.single.seconds.at(-1)?.toFixed(2)} s` : ""),
    );
  }
}
for (const r of results) {
  if (reference !== null && r.problem.op.size <= 5000) {
    const answer = await reference.ask(`dense ${r.problem.name} ${k}`);
    if (Array.isArray(answer.eigenvalues)) {
      r.dense = answer.eigenvalues as number[];
    }
  }
}
reference?.close();
rmSync(dir, { recursive: true, force: true });
const loadAfter = loadavg()[0];

// the table
const fmt = (x: number, digits = 2) =>
  Number.isFinite(x) ? x.toFixed(digits) : "–";
const sci = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : "–");
const rows = results.map((r) => {
  const scipyS = r.scipy.seconds.length ? median(r.scipy.seconds) : Number.NaN;
  const mpclS = median(r.mpcl.seconds);
  const singleS = r.single ? median(r.single.seconds) : Number.NaN;
  const diff = r.scipy.eigenvalues.length
    ? maxDifference(r.mpcl.eigenvalues, r.scipy.eigenvalues)
    : Number.NaN;
  const denseMpcl = r.dense
    ? maxDifference(r.mpcl.eigenvalues, r.dense)
    : Number.NaN;
  const denseScipy =
    r.dense && r.scipy.eigenvalues.length
      ? maxDifference(r.scipy.eigenvalues, r.dense)
      : Number.NaN;
  return {
    name: r.problem.name,
    label: r.problem.label,
    nnz: r.problem.op.colIdx.length,
    scipyS,
    mpclS,
    threads: r.mpcl.threads ?? 1,
    singleS,
    ratio: mpclS / scipyS,
    diff,
    denseMpcl,
    denseScipy,
    scipyMatvecs: r.scipy.matvecs.length ? median(r.scipy.matvecs) : Number.NaN,
    mpclMatvecs: median(r.mpcl.matvecs),
    errors: r.errors,
  };
});

const header = [
  "matrix",
  "stored entries",
  "scipy s",
  "mpcl s (threads)",
  "mpcl s, 1 thread",
  "mpcl / scipy",
  "max \\|Δλ\\| mpcl – scipy",
  "max \\|Δλ\\| vs dense (mpcl; scipy)",
  "products (scipy; mpcl)",
];
const tableLines = [
  `| ${header.join(" | ")} |`,
  `| ${header.map(() => "---").join(" | ")} |`,
  ...rows.map((r) => {
    const dense = Number.isFinite(r.denseMpcl)
      ? `${sci(r.denseMpcl)}; ${sci(r.denseScipy)}`
      : "–";
    const cells = [
      r.label,
      r.nnz.toLocaleString("en-US"),
      fmt(r.scipyS),
      `${fmt(r.mpclS)} (${r.threads})`,
      fmt(r.singleS),
      fmt(r.ratio),
      sci(r.diff),
      dense,
      `${fmt(r.scipyMatvecs, 0)}; ${fmt(r.mpclMatvecs, 0)}`,
    ];
    return `| ${cells.join(" | ")} |`;
  }),
];
const random = rows.find((r) => r.name === "random");
const goals = random
  ? [
      "",
      `Goals on the random graph: time at most 2× scipy's: ratio ` +
        `${fmt(random.ratio)}, ${random.ratio <= 2 ? "met" : "NOT met"}; ` +
        `the same eigenvalues to 1e-6: max |Δλ| ${sci(random.diff)}, ` +
        `${random.diff <= 1e-6 ? "met" : "NOT met"}.`,
    ]
  : [];
const date = new Date().toISOString().slice(0, 10);
const python = versions
  ? `python ${versions.python}, numpy ${versions.numpy}, ` +
    `scipy ${versions.scipy}`
  : "scipy not available";
const machine =
  `Measured ${date} on ${cpus()[0]?.model ?? "?"}, ` +
  `${availableParallelism()} cores; Node ${process.version}; ${python}. ` +
  `Load average (1 min) ${loadBefore.toFixed(1)} before the runs, ` +
  `${loadAfter.toFixed(1)} after. k = ${k}, which = LA, tol = ${tol}; ` +
  `medians of ${runs} interleaved rounds after a warm-up.`;
const errors = rows.flatMap((r) =>
  r.errors.map((e) => `- ${r.name}: scipy ${e}`),
);
const report = [machine, "", ...tableLines, ...goals, ...errors].join("\n");
console.log(report);

if (opts.json) {
  const perProblem = results.map((r) => ({
    name: r.problem.name,
    scipy: r.scipy,
    mpcl: r.mpcl,
    single: r.single,
    dense: r.dense,
  }));
  const text = JSON.stringify({ rows, results: perProblem }, null, 2);
  writeFileSync(opts.json, `${text}\n`);
}

if (opts["update-readme"]) {
  // only the text between this benchmark's own markers is replaced
  const path = fileURLToPath(new URL("README.md", import.meta.url));
  const text = readFileSync(path, "utf8");
  const start = "<!-- eigsh:start -->";
  const end = "<!-- eigsh:end -->";
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) {
    console.error(`README.md has no ${start} … ${end} section; not updated`);
  } else {
    writeFileSync(
      path,
      `${text.slice(0, a + start.length)}\n${report}\n${text.slice(b)}`,
    );
    // the linter formats markdown too (it pads the tables)
    spawnSync("npx", ["biome", "format", "--write", path], {
      stdio: "ignore",
    });
    console.error("README.md updated");
  }
}
