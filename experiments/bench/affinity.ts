/**
 * Benchmark of propagation over a softmax affinity graph: the uniformity
 * step `softmax(F Fᵀ / τ) F` and its gradient with respect to F, through
 * mpcl's blockwise `affinityGraph` (memory O(block × N)), through a naive
 * dense TensorFlow.js expression on the same backend, and, in the same
 * run on the same features, through dense PyTorch (affinity_ref.py under
 * /usr/bin/python3, 1 and 2 threads).
 *
 *   npx tsx experiments/bench/affinity.ts [--nodes 4096] [--dim 128]
 *     [--tau 0.5] [--runs 3] [--seed 71] [--python /usr/bin/python3]
 *     [--no-dense]
 *
 * Prints a markdown table of medians (ms) with ratios against torch, and
 * the agreement of the three results (the sum of r ⊙ out, and the sum of
 * the gradient, for a fixed random r).
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { initBackend, tf } from "../../src/backend.js";
import { affinityGraph } from "../../src/mp/affinity.js";

const { values: opts } = parseArgs({
  options: {
    nodes: { type: "string", default: "4096" },
    dim: { type: "string", default: "128" },
    tau: { type: "string", default: "0.5" },
    runs: { type: "string", default: "3" },
    seed: { type: "string", default: "71" },
    python: { type: "string", default: "/usr/bin/python3" },
    "no-dense": { type: "boolean", default: false },
  },
});
const n = Number(opts.nodes);
const k = Number(opts.dim);
const tau = Number(opts.tau);
const runs = Number(opts.runs);

/** Seeded uniform values in [-scale, scale) (mulberry32). */
function uniform(seed: number, count: number, scale: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (2 * u - 1) * scale;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Time `fn` (which returns two scalars) `count` times after a warm-up. */
function time(
  fn: () => [number, number],
  count: number,
): { ms: number[]; check: [number, number] } {
  let check = fn();
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    check = fn();
    ms.push(performance.now() - t0);
  }
  return { ms, check };
}

const backend = await initBackend();
const fData = uniform(Number(opts.seed), n * k, Math.sqrt(3 / k));
const rData = uniform(Number(opts.seed) + 1, n * k, 1);
const f = tf.tensor2d(fData, [n, k]);
const r = tf.tensor2d(rData, [n, k]);

// the two TensorFlow.js versions of out = softmax(F Fᵀ / τ) F
const blockwise = (fs: tf.Tensor2D) =>
  affinityGraph(fs, { kind: "softmax", temperature: tau }).propagate(fs);
const dense = (fs: tf.Tensor2D): tf.Tensor2D =>
  tf.matMul(tf.softmax(tf.div(tf.matMul(fs, fs, false, true), tau)), fs);

function forward(op: (fs: tf.Tensor2D) => tf.Tensor2D): () => [number, number] {
  return () => {
    const s = tf.tidy(() => tf.sum(tf.mul(r, op(f))));
    const v = s.dataSync()[0];
    s.dispose();
    return [v, 0];
  };
}

function withGradient(
  op: (fs: tf.Tensor2D) => tf.Tensor2D,
): () => [number, number] {
  return () => {
    const { value, grads } = tf.valueAndGrads((fs: tf.Tensor) =>
      tf.sum(tf.mul(r, op(fs as tf.Tensor2D))),
    )([f]);
    const g = tf.sum(grads[0]);
    const out: [number, number] = [value.dataSync()[0], g.dataSync()[0]];
    tf.dispose([value, grads[0], g]);
    return out;
  };
}

interface Row {
  impl: string;
  threads: number | string;
  forward?: number;
  backward?: number;
  check: [number, number];
}
const rows: Row[] = [];

const bf = time(forward(blockwise), runs);
const bb = time(withGradient(blockwise), runs);
rows.push({
  impl: `mpcl affinityGraph, blockwise (tfjs ${backend.backend})`,
  threads: backend.threads || "native",
  forward: median(bf.ms),
  backward: median(bb.ms),
  check: [bf.check[0], bb.check[1]],
});
if (!opts["no-dense"]) {
  const df = time(forward(dense), 1);
  const db = time(withGradient(dense), 1);
  rows.push({
    impl: `naive dense tfjs (${backend.backend})`,
    threads: backend.threads || "native",
    forward: median(df.ms),
    backward: median(db.ms),
    check: [df.check[0], db.check[1]],
  });
}

// the same features for PyTorch, written as raw float32
const dir = mkdtempSync(join(tmpdir(), "mpcl-affinity-"));
writeFileSync(join(dir, "f.bin"), fData);
writeFileSync(join(dir, "r.bin"), rData);
writeFileSync(
  join(dir, "meta.json"),
  JSON.stringify({ nodes: n, dim: k, tau, runs }),
);
const script = fileURLToPath(new URL("affinity_ref.py", import.meta.url));
let torchVersion = "not run";
for (const threads of [1, 2]) {
  const res = spawnSync(
    opts.python,
    [script, "--dir", dir, "--threads", String(threads)],
    { encoding: "utf8" },
  );
  const line = (res.stdout ?? "").trim().split("\n").pop() ?? "";
  if (res.status !== 0 || line === "") {
    console.log(
      `PyTorch reference not run (${opts.python}: ` +
        `${line || res.error?.message || res.stderr}). Install it with: ` +
        "apt-get update && apt-get install -y python3-torch",
    );
    break;
  }
  const out = JSON.parse(line);
  torchVersion = out.versions.torch;
  rows.push({
    impl: "torch dense (autograd)",
    threads,
    forward: median(out.results.forward.ms),
    backward: median(out.results["forward+backward"].ms),
    check: [out.results.forward.check, out.results["forward+backward"].check],
  });
}
rmSync(dir, { recursive: true, force: true });
tf.dispose([f, r]);

// the table, with ratios against torch at the same thread count as mpcl
const torch1 = rows.find((x) => x.impl.startsWith("torch") && x.threads === 1);
const fmt = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(0));
const ratio = (v: number | undefined, ref: number | undefined) =>
  v === undefined || ref === undefined ? "–" : (v / ref).toFixed(2);
console.log(
  `\nN = ${n}, k = ${k}, τ = ${tau}; medians of ${runs} runs after a ` +
    `warm-up (naive dense: 1 run), ms; torch ${torchVersion}; ` +
    `${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(
  "| implementation | threads | forward | fwd+bwd | forward / torch 1 thr " +
    "| fwd+bwd / torch 1 thr | Σ r⊙out | Σ grad |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) {
  console.log(
    `| ${row.impl} | ${row.threads} | ${fmt(row.forward)} | ` +
      `${fmt(row.backward)} | ${ratio(row.forward, torch1?.forward)} | ` +
      `${ratio(row.backward, torch1?.backward)} | ` +
      `${row.check[0].toPrecision(7)} | ${row.check[1].toPrecision(7)} |`,
  );
}
