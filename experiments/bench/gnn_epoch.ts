/**
 * Benchmark: one training epoch (forward, backward, Adam step) of a
 * 2-layer GCN (Kipf & Welling 2017) and of GAT (Veličković et al. 2018)
 * built from mpcl's layers, against the same models in plain PyTorch
 * (`gnn_epoch_ref.py`), measured in the same run with the runs of both
 * interleaved; and the dense products `X W` that decide those epochs,
 * against torch and TF.js's own matMul.
 *
 * Datasets: Cora (2,708 nodes, 1,433 binary features, 7 classes; mpcl
 * takes them as sparse features, torch as a dense tensor) and PubMed's
 * graph (19,717 nodes, 44,324 undirected edges, 3 classes) with random
 * dense 500-dimensional features (the real ones are not shipped).
 *
 * Usage:
 *   npx tsx experiments/bench/gnn_epoch.ts [--runs 20] [--warmup 3]
 *     [--datasets cora,pubmed] [--models gcn,gat] [--no-products]
 *     [--python /usr/bin/python3] [--no-python] [--threads 2]
 *     [--json results.json] [--update-readme] [--profile]
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { initBackend, tf } from "../../src/backend.js";
import { loadCora, loadPubMed } from "../../src/graph/datasets/index.js";
import type { Graph } from "../../src/graph/graph.js";
import { kernelInfo, setKernelThreads } from "../../src/graph/native.js";
import {
  denseMatMul,
  type NodeFeatures,
  SparseFeatures,
} from "../../src/mp/linear.js";
import { GATConv } from "../../src/nn/gat.js";
import { GCNConv } from "../../src/nn/gcn.js";
import type { ForwardContext, Parameter } from "../../src/nn/module.js";
import { Adam } from "../../src/nn/optim.js";
import { mulberry32 } from "../../src/random.js";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    datasets: { type: "string", default: "cora,pubmed" },
    models: { type: "string", default: "gcn,gat" },
    "no-products": { type: "boolean", default: false },
    "product-runs": { type: "string", default: "5" },
    python: { type: "string", default: "/usr/bin/python3" },
    "no-python": { type: "boolean", default: false },
    threads: { type: "string", default: "2" },
    seed: { type: "string", default: "0" },
    json: { type: "string" },
    "update-readme": { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
  },
});
const runs = Number(opts.runs);
const productRuns = Number(opts["product-runs"]);
const warmup = Number(opts.warmup);
const threads = Number(opts.threads);
const seed = Number(opts.seed);
const datasetNames = (opts.datasets as string).split(",");
const modelNames = (opts.models as string).split(",") as ("gcn" | "gat")[];

const backend = await initBackend();
setKernelThreads(threads);

// ---------------------------------------------------------------------
// data
// ---------------------------------------------------------------------

interface Data {
  name: string;
  graph: Graph;
  n: number;
  f: number;
  c: number;
  /** Dense row-major features, for torch and for dense mpcl input. */
  dense: Float32Array;
  /** What mpcl's layers take (sparse for Cora, dense for PubMed). */
  x: NodeFeatures;
  labels: Int32Array;
  train: Int32Array;
}

function loadData(name: string): Data {
  if (name === "cora") {
    const d = loadCora();
    const dense = d.features as Float32Array;
    return {
      name,
      graph: d.graph,
      n: d.numNodes,
      f: d.numFeatures,
      c: d.numClasses,
      dense,
      x: SparseFeatures.fromDense(dense, d.numNodes, d.numFeatures),
      labels: d.labels,
      train: d.split.train,
    };
  }
  if (name === "pubmed") {
    const d = loadPubMed();
    const f = 500;
    const random = mulberry32(seed + 17);
    const dense = new Float32Array(d.numNodes * f);
    for (let i = 0; i < dense.length; i++) dense[i] = random();
    return {
      name,
      graph: d.graph,
      n: d.numNodes,
      f,
      c: d.numClasses,
      dense,
      x: tf.tensor2d(dense, [d.numNodes, f]),
      labels: d.labels,
      train: d.split.train,
    };
  }
  throw new Error(`gnn_epoch: unknown dataset '${name}'`);
}

const datasets = datasetNames.map(loadData);

// ---------------------------------------------------------------------
// mpcl models
// ---------------------------------------------------------------------

interface Model {
  forward(x: NodeFeatures, context: ForwardContext): tf.Tensor2D;
  parameters(): Parameter[];
}

function gcnModel(d: Data): Model {
  const conv1 = new GCNConv({
    inputDim: d.f,
    units: 16,
    inputDropout: 0.5,
    seed: seed + 1,
  });
  const conv2 = new GCNConv({
    inputDim: 16,
    units: d.c,
    inputDropout: 0.5,
    seed: seed + 2,
  });
  return {
    forward: (x, context) =>
      tf.tidy(() => conv2.apply(tf.relu(conv1.apply(x, context)), context)),
    parameters: () => [
      ...conv1.parameters().map((p) => ({ ...p, name: `conv1.${p.name}` })),
      ...conv2.parameters().map((p) => ({ ...p, name: `conv2.${p.name}` })),
    ],
  };
}

function gatModel(d: Data): Model {
  const conv1 = new GATConv({
    inputDim: d.f,
    units: 8,
    heads: 8,
    inputDropout: 0.6,
    attentionDropout: 0.6,
    seed: seed + 3,
  });
  const conv2 = new GATConv({
    inputDim: 64,
    units: d.c,
    heads: 1,
    concat: false,
    inputDropout: 0.6,
    attentionDropout: 0.6,
    seed: seed + 4,
  });
  return {
    forward: (x, context) =>
      tf.tidy(() =>
        conv2.apply(tf.elu(conv1.apply(x, context)) as tf.Tensor2D, context),
      ),
    parameters: () => [
      ...conv1.parameters().map((p) => ({ ...p, name: `conv1.${p.name}` })),
      ...conv2.parameters().map((p) => ({ ...p, name: `conv2.${p.name}` })),
    ],
  };
}

/** One epoch of training, as a closure over its model and optimizer. */
function epochCase(d: Data, model: "gcn" | "gat"): () => number {
  const m = model === "gcn" ? gcnModel(d) : gatModel(d);
  const params = m.parameters();
  const adam = new Adam(params, {
    lr: model === "gcn" ? 0.01 : 0.005,
    weightDecay: 5e-4,
  });

  // NLL of the training nodes as Σ T ⊙ log_softmax, T[i, y_i] = 1 / |train|
  // (no gather: its gradient needs a kernel the WASM backend lacks)
  const targets = new Float32Array(d.n * d.c);
  for (const i of d.train) targets[i * d.c + d.labels[i]] = 1 / d.train.length;
  const t = tf.tensor2d(targets, [d.n, d.c]);
  const context: ForwardContext = {
    graph: d.graph,
    training: true,
    random: mulberry32(seed + 99),
  };
  const vars = params.map((p) => p.variable);
  return () => {
    const { value, grads } = tf.variableGrads(
      () =>
        tf.tidy(() =>
          tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(m.forward(d.x, context))))),
        ) as tf.Scalar,
      vars,
    );
    adam.step(grads);
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };
}

/**
 * TF.js's matMul with the gradients written with explicit transposes (the
 * transpose flags of the WASM backend's matMul run 10-50× slower): what
 * mpcl runs without its native addon.
 */
function explicitMatMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((...args) => {
    const [at, bt, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([at, bt]);
    return {
      value: tf.matMul(at, bt),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [as, bs] = saved as tf.Tensor2D[];
        const g = dy as tf.Tensor2D;
        return [tf.matMul(g, tf.transpose(bs)), tf.matMul(tf.transpose(as), g)];
      },
    };
  });
  return op(a, b) as tf.Tensor2D;
}

/** x [m, k] times a variable w [k, n]: forward, or forward and dW. */
function productCase(
  m: number,
  k: number,
  n: number,
  backward: boolean,
  impl: "mpcl" | "tfjs",
): () => void {
  const random = mulberry32(m * 7 + k * 3 + n);
  const xs = new Float32Array(m * k).map(() => random());
  const x = tf.tensor2d(xs, [m, k]);
  const w = tf.variable(tf.randomUniform([k, n], 0, 1, "float32", 1));
  const mm = (a: tf.Tensor2D, b: tf.Tensor2D) =>
    impl === "mpcl" ? denseMatMul(a, b) : explicitMatMul(a, b);
  return () => {
    if (!backward) {
      const y = mm(x, w as unknown as tf.Tensor2D);
      y.dataSync();
      y.dispose();
      return;
    }
    const { value, grads } = tf.variableGrads(
      () => tf.sum(mm(x, w as unknown as tf.Tensor2D)) as tf.Scalar,
      [w],
    );
    grads[w.name].dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
}

const products: [number, number, number][] = opts["no-products"]
  ? []
  : [
      [1024, 1024, 1024],
      [4096, 256, 256],
      [19717, 500, 16],
      [19717, 500, 64],
    ];

// ---------------------------------------------------------------------
// the cases: mpcl's, then torch's
// ---------------------------------------------------------------------

interface Case {
  key: string;
  impl: string;
  run: () => Promise<number>;
  /** Timed runs of this case (epochs: --runs, products: --product-runs). */
  runs: number;
}

function timed(fn: () => unknown): () => Promise<number> {
  return async () => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  };
}

const cases: Case[] = [];
for (const d of datasets) {
  for (const model of modelNames) {
    cases.push({
      key: `epoch ${d.name} ${model}`,
      impl: "mpcl",
      run: timed(epochCase(d, model)),
      runs,
    });
  }
}
for (const [m, k, n] of products) {
  for (const backward of [false, true]) {
    const key = `product ${m}x${k}x${n}${backward ? " +dW" : ""}`;
    cases.push({
      key,
      impl: "mpcl",
      run: timed(productCase(m, k, n, backward, "mpcl")),
      runs: productRuns,
    });
    cases.push({
      key,
      impl: "tfjs",
      run: timed(productCase(m, k, n, backward, "tfjs")),
      runs: productRuns,
    });
  }
}

// the python reference: writes the data, starts, lists its cases
let python: ChildProcess | null = null;
let pythonVersions: Record<string, unknown> = {};
let pythonNote = "";
let dir = "";
if (!opts["no-python"]) {
  dir = mkdtempSync(join(tmpdir(), "mpcl-gnn-epoch-"));
  const write = (name: string, a: ArrayBufferView) =>
    writeFileSync(
      join(dir, name),
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    );
  for (const d of datasets) {
    write(`${d.name}.rowPtr.bin`, d.graph.rowPtr);
    write(`${d.name}.colIdx.bin`, d.graph.colIdx);
    write(`${d.name}.x.bin`, d.dense);
    write(`${d.name}.labels.bin`, d.labels);
    write(`${d.name}.train.bin`, d.train);
  }
  writeFileSync(
    join(dir, "meta.json"),
    JSON.stringify({
      datasets: datasets.map((d) => ({
        name: d.name,
        nodes: d.n,
        edges: d.graph.numEdges,
        features: d.f,
        classes: d.c,
      })),
      products,
    }),
  );
  const script = fileURLToPath(new URL("gnn_epoch_ref.py", import.meta.url));
  const child = spawn(
    opts.python as string,
    [
      script,
      "--dir",
      dir,
      "--threads",
      threads === 1 ? "1" : `${threads},1`,
      "--seed",
      String(seed),
    ],
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
      versions: Record<string, unknown>;
      cases: {
        kind: string;
        dataset?: string;
        model?: string;
        m?: number;
        k?: number;
        n?: number;
        backward?: boolean;
        threads: number;
      }[];
    };
    pythonVersions = hello.versions;
    hello.cases.forEach((c, i) => {
      const key =
        c.kind === "epoch"
          ? `epoch ${c.dataset} ${c.model}`
          : `product ${c.m}x${c.k}x${c.n}${c.backward ? " +dW" : ""}`;
      const ours = cases.find((o) => o.key === key);
      if (ours === undefined) return;
      cases.push({
        key,
        impl: c.threads === threads ? "torch" : `torch${c.threads}`,
        runs: ours.runs,
        run: async () => {
          child.stdin?.write(`run ${i}\n`);
          const reply = await next();
          if (typeof reply.ms !== "number") throw new Error(`${reply.error}`);
          return reply.ms;
        },
      });
    });
    python = child;
  } catch {
    const code = await exited;
    pythonNote =
      code === 3
        ? "torch missing: apt-get update && apt-get install -y python3-torch"
        : `python reference failed (exit ${code})`;
    process.stderr.write(`${pythonNote}\n`);
  }
}

// ---------------------------------------------------------------------
// the rounds: warm-up rounds, then every case once per round
// ---------------------------------------------------------------------

const samples = new Map<string, number[]>();
const id = (c: Case) => `${c.key}|${c.impl}`;
const loadBefore = loadavg()[0];
const rounds = warmup + Math.max(...cases.map((c) => c.runs));
for (let round = 0; round < rounds; round++) {
  for (const c of cases) {
    if (round >= warmup + c.runs) continue;
    const ms = await c.run();
    if (round < warmup) continue;
    const list = samples.get(id(c)) ?? [];
    list.push(ms);
    samples.set(id(c), list);
  }
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
}
const loadAfter = loadavg()[0];
process.stderr.write("\n");
if (python !== null) {
  python.stdin?.write("quit\n");
  python.stdin?.end();
}
if (dir !== "") rmSync(dir, { recursive: true, force: true });

// ---------------------------------------------------------------------
// where the time goes (optional): per-kernel totals of one epoch
// ---------------------------------------------------------------------

if (opts.profile) {
  for (const d of datasets) {
    for (const model of modelNames) {
      const epoch = epochCase(d, model);
      epoch();
      const info = await tf.profile(() => {
        epoch();
      });
      const byKernel = new Map<string, number>();
      for (const k of info.kernels) {
        const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
        byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms);
      }
      const top = [...byKernel.entries()].sort((a, b) => b[1] - a[1]);
      process.stdout.write(`\nprofile ${d.name} ${model} (kernel ms):\n`);
      for (const [name, ms] of top.slice(0, 15)) {
        process.stdout.write(`  ${name.padEnd(28)} ${ms.toFixed(1)}\n`);
      }
    }
  }
}

// ---------------------------------------------------------------------
// report
// ---------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

const med = (key: string, impl: string): number | undefined => {
  const list = samples.get(`${key}|${impl}`);
  return list === undefined ? undefined : median(list);
};
const fmt = (v: number | undefined) =>
  v === undefined ? "–" : v >= 100 ? v.toFixed(0) : v.toFixed(1);

const kernels = kernelInfo();
const date = new Date().toISOString().slice(0, 10);
const header =
  `Measured ${date} on ${cpus()[0]?.model ?? "?"}, ` +
  `${availableParallelism()} cores; Node ${process.version}; ` +
  `tfjs ${tf.version.tfjs} (backend ${backend.backend}); mpcl kernels: ` +
  `${kernels.implementation}${kernels.simd ? ` (${kernels.simd})` : ""}, ` +
  `${threads} threads; ` +
  (python !== null
    ? `python ${pythonVersions.python}, torch ${pythonVersions.torch} ` +
      `(${pythonVersions.threads} threads)`
    : pythonNote || "no python reference") +
  `. Load average (1 min) ${loadBefore.toFixed(1)} before, ` +
  `${loadAfter.toFixed(1)} after. Medians of ${runs} interleaved runs ` +
  `(products: ${productRuns}) after ${warmup} warm-up rounds, in ms.`;

const epochRows: string[] = [];
const epochJson: Record<string, unknown>[] = [];
for (const d of datasets) {
  for (const model of modelNames) {
    const key = `epoch ${d.name} ${model}`;
    const ours = med(key, "mpcl");
    const theirs = med(key, "torch");
    const single = med(key, "torch1");
    const ratio =
      ours !== undefined && theirs !== undefined ? ours / theirs : undefined;

    // against the faster of torch's two thread counts too: on a loaded
    // machine torch's 2 OpenMP threads can lose to its 1
    const best =
      theirs !== undefined && single !== undefined
        ? Math.min(theirs, single)
        : theirs;
    const ratioBest =
      ours !== undefined && best !== undefined ? ours / best : undefined;
    const r = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(2));
    epochRows.push(
      `| ${d.name} | ${model.toUpperCase()} | ${fmt(ours)} | ${fmt(theirs)} | ` +
        `${fmt(single)} | ${r(ratio)} | ${r(ratioBest)} | ` +
        `${ratio === undefined ? "–" : ratio <= 2 ? "yes" : "no"} |`,
    );
    epochJson.push({
      dataset: d.name,
      model,
      mpcl: ours,
      torch: theirs,
      torch1: single,
      ratio,
      ratioBest,
    });
  }
}

const productRows: string[] = [];
const productJson: Record<string, unknown>[] = [];
for (const [m, k, n] of products) {
  for (const backward of [false, true]) {
    const key = `product ${m}x${k}x${n}${backward ? " +dW" : ""}`;
    const flops = 2 * m * k * n * (backward ? 2 : 1);
    const gf = (ms: number | undefined) =>
      ms === undefined ? "–" : (flops / ms / 1e6).toFixed(1);
    const row = ["mpcl", "tfjs", "torch"].map((impl) => med(key, impl));
    productRows.push(
      `| ${m}×${k} · ${k}×${n}${backward ? " + dW" : ""} | ` +
        row.map((v) => `${fmt(v)} (${gf(v)})`).join(" | ") +
        " |",
    );
    productJson.push({ m, k, n, backward, ms: row });
  }
}

const table = [
  header,
  "",
  "One epoch (forward, backward, Adam step):",
  "",
  `| dataset | model | mpcl (${threads} threads) | torch (${threads} threads) | torch (1 thread) | ratio | ratio to torch's best | ≤ 2× |`,
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ...epochRows,
  ...(productRows.length > 0
    ? [
        "",
        "Dense products `X W` (ms, GFLOP/s in parentheses; `+ dW` adds " +
          "the weight gradient `Xᵀ dY`):",
        "",
        "| product | mpcl denseMatMul | TF.js matMul (explicit transposes) | torch |",
        "| --- | --- | --- | --- |",
        ...productRows,
      ]
    : []),
].join("\n");
process.stdout.write(`\n${table}\n`);

if (opts.json) {
  writeFileSync(
    opts.json,
    JSON.stringify(
      {
        date,
        runs,
        warmup,
        threads,
        loadBefore,
        loadAfter,
        kernels,
        pythonVersions,
        epochs: epochJson,
        products: productJson,
        samples: Object.fromEntries(samples),
      },
      null,
      1,
    ),
  );
}
if (opts["update-readme"]) {
  const readme = fileURLToPath(new URL("README.md", import.meta.url));
  const text = readFileSync(readme, "utf8");
  const start = "<!-- gnn-epoch:start -->";
  const end = "<!-- gnn-epoch:end -->";
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) {
    process.stderr.write(`no ${start} … ${end} markers in ${readme}\n`);
  } else {
    writeFileSync(
      readme,
      `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`,
    );
    spawnSync("npx", ["biome", "format", "--write", readme], {
      stdio: "ignore",
    });
  }
}
process.exit(0);
