/**
 * Benchmark of propagation with sum, mean and max: mpcl's kernels (native
 * addon with 1 and 2 threads, the TypeScript reference), `propagate`
 * itself, and, in the same run on the same graph, scipy and PyTorch
 * (experiments/bench/propagate_ref.py under /usr/bin/python3).
 *
 * A random directed graph (uniform sources and destinations, seeded) with
 * N nodes and E edges, and dense float32 features N × d. Medians of
 * `--runs` timed runs after one warm-up. See README.md here for the
 * operations measured and the latest results.
 *
 *   npx tsx experiments/bench/propagate.ts [--nodes 100000]
 *     [--edges 1000000] [--features 64] [--runs 5] [--seed 1]
 *     [--python /usr/bin/python3] [--no-python] [--no-reference]
 *     [--no-propagate] [--update-readme] [--json results.json]
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Graph } from "../../src/graph/graph.js";
import {
  type CSR,
  edgeDot,
  edgeDotReference,
  extremeBackward,
  extremeBackwardReference,
  kernelInfo,
  kernelThreads,
  segmentExtreme,
  segmentExtremeReference,
  setKernelThreads,
  spmm,
  spmmReference,
} from "../../src/graph/kernels.js";
import { mulberry32 } from "../../src/random.js";

const { values: opts } = parseArgs({
  options: {
    nodes: { type: "string", default: "100000" },
    edges: { type: "string", default: "1000000" },
    features: { type: "string", default: "64" },
    runs: { type: "string", default: "5" },
    seed: { type: "string", default: "1" },
    python: { type: "string", default: "/usr/bin/python3" },
    "no-python": { type: "boolean", default: false },
    "no-reference": { type: "boolean", default: false },
    "no-propagate": { type: "boolean", default: false },
    "update-readme": { type: "boolean", default: false },
    json: { type: "string" },
  },
});
const N = Number(opts.nodes);
const E = Number(opts.edges);
const d = Number(opts.features);
const runs = Number(opts.runs);
const seed = Number(opts.seed);

/** One measurement: an implementation, a thread count, an operation. */
interface Result {
  impl: string;
  threads: number;
  op: Op;
  ms?: number[];
  error?: string;
}

const OPS = ["sum", "sum+bwd", "mean", "mean+bwd", "max", "max+bwd"] as const;
type Op = (typeof OPS)[number];

/** Median of a list of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * One implementation of one operation. `run` performs it once and gives
 * its wall-clock time in ms; the rounds below call it.
 */
interface Case {
  readonly impl: string;
  readonly threads: number;
  readonly op: Op;
  readonly run: () => Promise<number>;
}

const cases: Case[] = [];

/** A case run in this process: `fn` timed with performance.now. */
function local(
  impl: string,
  threads: number | null,
  op: Op,
  fn: () => unknown,
): Case {
  const run = async () => {
    if (threads !== null) setKernelThreads(threads);
    const t = performance.now();
    fn();
    const ms = performance.now() - t;
    setKernelThreads(null);
    return ms;
  };
  return { impl, threads: threads ?? kernelThreads(), op, run };
}

// ---------------------------------------------------------------------
// the graph and the features
// ---------------------------------------------------------------------

process.stderr.write(`graph: N = ${N}, E = ${E}, d = ${d}, seed ${seed}\n`);
const rand = mulberry32(seed);
const src = new Int32Array(E);
const dst = new Int32Array(E);
for (let e = 0; e < E; e++) {
  src[e] = Math.floor(rand() * N);
  dst[e] = Math.floor(rand() * N);
}
const graph = Graph.fromEdges(src, dst, { numNodes: N });
const x = new Float32Array(N * d);
const dy = new Float32Array(N * d);
for (let p = 0; p < x.length; p++) x[p] = rand() * 2 - 1;
for (let p = 0; p < dy.length; p++) dy[p] = rand() * 2 - 1;

const csr: CSR = graph;
const t = graph.sourceCSR;
const transposed: CSR = { rowPtr: t.colPtr, colIdx: t.rowIdx, weights: null };
const counts = graph.inEdgeCounts();

/** Divide each row by its in-edge count (the mean), in place. */
function divideRows(m: Float32Array): Float32Array {
  for (let i = 0; i < N; i++) {
    const c = counts[i];
    if (c <= 1) continue;
    for (let k = i * d; k < (i + 1) * d; k++) m[k] /= c;
  }
  return m;
}

// ---------------------------------------------------------------------
// mpcl kernels
// ---------------------------------------------------------------------

/**
 * The six operations on one set of kernels. Backward passes: sum and
 * mean take dx = Aᵀ dy over the source-ordered CSR and dw = edgeDot (the
 * edge weights' gradient); max routes dy through the arg-max.
 */
function kernelCases(k: {
  spmm: typeof spmm;
  segmentExtreme: typeof segmentExtreme;
  edgeDot: typeof edgeDot;
  extremeBackward: typeof extremeBackward;
}): [Op, () => unknown][] {
  return [
    ["sum", () => k.spmm(csr, x, d)],
    [
      "sum+bwd",
      () => {
        k.spmm(csr, x, d);
        k.spmm(transposed, dy, d);
        k.edgeDot(csr, dy, x, d);
      },
    ],
    ["mean", () => divideRows(k.spmm(csr, x, d))],
    [
      "mean+bwd",
      () => {
        divideRows(k.spmm(csr, x, d));
        const g = divideRows(dy.slice());
        k.spmm(transposed, g, d);
        k.edgeDot(csr, g, x, d);
      },
    ],
    ["max", () => k.segmentExtreme(csr, x, d, "max")],
    [
      "max+bwd",
      () => {
        const { arg } = k.segmentExtreme(csr, x, d, "max");
        k.extremeBackward(csr, arg, x, dy, d, N);
      },
    ],
  ];
}

const info = kernelInfo();
const defaultThreads = kernelThreads();
if (info.implementation === "native") {
  for (const threads of [1, 2]) {
    for (const [op, fn] of kernelCases({
      spmm,
      segmentExtreme,
      edgeDot,
      extremeBackward,
    })) {
      cases.push(local("mpcl native kernels", threads, op, fn));
    }
  }
} else {
  process.stderr.write(`native kernels not used: ${info.reason}\n`);
}
if (!opts["no-reference"]) {
  for (const [op, fn] of kernelCases({
    spmm: spmmReference,
    segmentExtreme: segmentExtremeReference,
    edgeDot: edgeDotReference,
    extremeBackward: extremeBackwardReference,
  })) {
    cases.push(local("mpcl TypeScript reference", 1, op, fn));
  }
}

// ---------------------------------------------------------------------
// propagate, through TensorFlow.js
// ---------------------------------------------------------------------

let backendName = "not measured";
if (!opts["no-propagate"]) {
  try {
    const { initBackend, tf } = await import("../../src/backend.js");
    const { propagate } = await import("../../src/mp/propagate.js");
    const backend = await initBackend();
    backendName = backend.backend;
    const impl = `mpcl propagate (tfjs ${backend.backend})`;
    const xT = tf.tensor2d(x, [N, d]);
    const dyT = tf.tensor2d(dy, [N, d]);
    for (const aggregate of ["sum", "mean", "max"] as const) {
      const forward = local(impl, null, aggregate, () => {
        const out = propagate(graph, xT, { aggregate });
        out.dataSync();
        out.dispose();
      });
      const backward = local(impl, null, `${aggregate}+bwd`, () => {
        tf.tidy(() => {
          const loss = (v: InstanceType<typeof tf.Tensor>) =>
            tf.sum(
              tf.mul(propagate(graph, v as typeof xT, { aggregate }), dyT),
            );
          const grad = tf.grad(loss)(xT);
          grad.dataSync();
        });
      });
      cases.push(forward, backward);
    }
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : `${err}`;
    process.stderr.write(`propagate not measured: ${why}\n`);
    backendName = `not measured (${why})`;
  }
}

// ---------------------------------------------------------------------
// scipy and PyTorch on the same graph
// ---------------------------------------------------------------------

let pythonVersions: Record<string, string> = {};
let pythonNote = "";
let python: ChildProcess | null = null;
const dir = mkdtempSync(join(tmpdir(), "mpcl-bench-"));
if (!opts["no-python"]) {
  const write = (name: string, a: Int32Array | Float32Array) =>
    writeFileSync(join(dir, name), new Uint8Array(a.buffer, 0, a.byteLength));
  write("rowPtr.bin", graph.rowPtr);
  write("colIdx.bin", graph.colIdx);
  write("x.bin", x);
  write("dy.bin", dy);
  writeFileSync(
    join(dir, "meta.json"),
    JSON.stringify({ nodes: N, edges: E, features: d }),
  );
  process.stderr.write(`python reference (${opts.python}) …\n`);

  // the reference lists its cases, then times one per "run <i>" line
  const script = fileURLToPath(new URL("propagate_ref.py", import.meta.url));
  const child = spawn(
    opts.python as string,
    [script, "--dir", dir, "--threads", "1,2"],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(null));
  });
  const lines = createInterface({ input: child.stdout })[
    Symbol.asyncIterator
  ]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error("the python reference stopped");
    return JSON.parse(line.value);
  };
  try {
    const hello = (await next()) as {
      versions: Record<string, string>;
      cases: { impl: string; threads: number; op: Op }[];
    };
    pythonVersions = hello.versions;
    hello.cases.forEach((c, i) => {
      const run = async () => {
        child.stdin.write(`run ${i}\n`);
        const reply = await next();
        if (typeof reply.ms !== "number") throw new Error(`${reply.error}`);
        return reply.ms;
      };
      cases.push({ impl: c.impl, threads: c.threads, op: c.op, run });
    });
    python = child;
  } catch {
    const code = await exited;
    pythonNote =
      code === 3
        ? "scipy/torch missing: apt-get update && apt-get install -y " +
          "python3-scipy python3-torch"
        : `python reference failed (exit ${code})`;
    process.stderr.write(`${pythonNote}\n`);
  }
}

// ---------------------------------------------------------------------
// the rounds: every case once per round, a warm-up round first, so
// that the load of a shared machine weighs on all implementations alike
// ---------------------------------------------------------------------

const results: Result[] = cases.map((c) => ({
  impl: c.impl,
  threads: c.threads,
  op: c.op,
  ms: [],
}));
const loadBefore = loadavg()[0];
for (let round = 0; round <= runs; round++) {
  for (const op of OPS) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[k];
      const r = results[k];
      if (c.op !== op || r.error !== undefined) continue;
      try {
        const ms = await c.run();
        if (round > 0) r.ms?.push(ms);
      } catch (err) {
        r.error = err instanceof Error ? err.message.split("\n")[0] : `${err}`;
        process.stderr.write(`  ${c.impl}, ${c.op}: failed: ${r.error}\n`);
      }
    }
  }
  process.stderr.write(
    round === 0 ? "warm-up round done\n" : `round ${round}/${runs} done\n`,
  );
}
const loadAfter = loadavg()[0];
python?.stdin?.end("quit\n");
rmSync(dir, { recursive: true, force: true });
for (const r of results) {
  if (r.ms && r.ms.length > 0) {
    process.stderr.write(
      `  ${r.impl}, ${r.threads} thread(s), ${r.op}: ` +
        `${median(r.ms).toFixed(1)} ms\n`,
    );
  }
}

// ---------------------------------------------------------------------
// the report
// ---------------------------------------------------------------------

/** Median of one measurement, or undefined. */
function get(impl: string, threads: number, op: Op): number | undefined {
  const r = results.find(
    (q) => q.impl === impl && q.threads === threads && q.op === op,
  );
  return r?.ms && r.ms.length > 0 ? median(r.ms) : undefined;
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    return line ? line.split(":")[1].trim() : "unknown";
  } catch {
    return "unknown";
  }
}

function packageVersion(name: string): string {
  try {
    return createRequire(import.meta.url)(`${name}/package.json`).version;
  } catch {
    return "not installed";
  }
}

const fmt = (v: number | undefined) =>
  v === undefined ? "–" : v >= 100 ? v.toFixed(0) : v.toFixed(1);

const lines: string[] = [];
const date = new Date().toISOString().slice(0, 10);
const kernelsLine =
  info.implementation === "native"
    ? `native addon (${info.simd}), default ${defaultThreads} threads`
    : `TypeScript (${info.reason})`;
lines.push(
  `Measured ${date} on ${cpuModel()}, ${availableParallelism()} cores ` +
    `(nproc); Node ${process.version}; mpcl kernels: ${kernelsLine}; ` +
    `tfjs ${packageVersion("@tensorflow/tfjs")} (backend ${backendName}); ` +
    Object.entries(pythonVersions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ") +
    (pythonNote ? ` (${pythonNote})` : "") +
    `. Load average (1 min) ${loadBefore.toFixed(1)} before the runs, ` +
    `${loadAfter.toFixed(1)} after.`,
  "",
  `Graph: N = ${N.toLocaleString("en")} nodes, E = ` +
    `${E.toLocaleString("en")} directed edges (uniform random, seed ` +
    `${seed}), d = ${d} float32 features. Medians of ${runs} runs after a ` +
    "warm-up round, in ms; the runs of all implementations are " +
    "interleaved (one of each per round).",
  "",
  "| implementation | threads | sum | sum+bwd | mean | mean+bwd | max | max+bwd |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
);
const rows: [string, number][] = [];
for (const r of results) {
  if (!rows.some(([i, th]) => i === r.impl && th === r.threads)) {
    rows.push([r.impl, r.threads]);
  }
}
for (const [impl, threads] of rows) {
  const cells = OPS.map((op) => fmt(get(impl, threads, op)));
  lines.push(`| ${impl} | ${threads} | ${cells.join(" | ")} |`);
}

// the goals of the issue, as ratios measured in this run
const scipySum = get("scipy CSR @ dense", 1, "sum");
const checks: [string, number | undefined, number | undefined, number][] = [];
for (const [impl, threads] of rows) {
  if (!impl.startsWith("mpcl") || impl.includes("reference")) continue;
  const who = `${impl}, ${threads} thr`;
  const torch = get("torch sparse.mm CSR", threads, "sum");
  checks.push(
    [`${who}: sum / scipy sum`, get(impl, threads, "sum"), scipySum, 1.0],
    [
      `${who}: sum / torch CSR sum (${threads} thr)`,
      get(impl, threads, "sum"),
      torch,
      1.5,
    ],
    [`${who}: max / scipy sum`, get(impl, threads, "max"), scipySum, 3.0],
  );
  for (const op of ["sum+bwd", "mean+bwd", "max+bwd"] as const) {
    checks.push([
      `${who}: ${op} / scipy sum`,
      get(impl, threads, op),
      scipySum,
      2.5,
    ]);
  }
}
if (scipySum !== undefined) {
  lines.push(
    "",
    "Goals (ratios of medians from this run; a ratio at or below its goal " +
      "meets it):",
    "",
    "| comparison | mpcl ms | reference ms | ratio | goal | met |",
    "| --- | --- | --- | --- | --- | --- |",
  );
  for (const [name, a, b, goal] of checks) {
    if (a === undefined || b === undefined) continue;
    const ratio = a / b;
    lines.push(
      `| ${name} | ${fmt(a)} | ${fmt(b)} | ${ratio.toFixed(2)} | ` +
        `≤ ${goal} | ${ratio <= goal ? "yes" : "no"} |`,
    );
  }
}
const errors = results.filter((r) => r.error);
if (errors.length > 0) {
  lines.push("", "Failed cases:", "");
  for (const r of errors) {
    lines.push(`- ${r.impl}, ${r.threads} thread(s), ${r.op}: ${r.error}`);
  }
}
const table = lines.join("\n");
process.stdout.write(`${table}\n`);

if (opts.json) {
  writeFileSync(
    opts.json,
    JSON.stringify({ date, N, E, d, runs, seed, results }, null, 1),
  );
}
if (opts["update-readme"]) {
  const readme = fileURLToPath(new URL("README.md", import.meta.url));
  const text = readFileSync(readme, "utf8");
  const start = "<!-- results:start -->";
  const end = "<!-- results:end -->";
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) {
    process.stderr.write(`no ${start} … ${end} markers in ${readme}\n`);
  } else {
    writeFileSync(
      readme,
      `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`,
    );
    // the linter formats markdown too (it pads the tables)
    spawnSync("npx", ["biome", "format", "--write", readme], {
      stdio: "ignore",
    });
  }
}
