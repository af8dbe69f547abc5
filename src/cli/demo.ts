/**
 * `mpcl demo`: the main job on embedded data, for now a propagation demo
 * on Cora. It prints the runtime facts, propagates Cora's features with
 * several aggregators, and shows what two rounds of propagation over the
 * normalized graph do for a nearest-centroid classifier on the public
 * split (the SGC observation: smoothing features over the graph makes
 * classes separable).
 */

import type { Command } from "commander";
import { tf } from "../backend.js";
import { loadCora } from "../graph/datasets/index.js";
import { addSelfLoops, normalize } from "../graph/transforms.js";
import { propagate } from "../mp/propagate.js";
import { formatRuntimeInfo, runtimeInfo } from "./info.js";
import { since, table } from "./util.js";

/** Scale every row of a row-major matrix to sum 1 (zero rows stay 0). */
function rowNormalize(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[i * d + k];
    const inv = s > 0 ? 1 / s : 0;
    for (let k = 0; k < d; k++) out[i * d + k] = x[i * d + k] * inv;
  }
  return out;
}

/**
 * Accuracy on `test` of the classifier that assigns each node the class
 * whose mean training feature (cosine) is closest.
 */
function nearestCentroidAccuracy(
  x: Float32Array,
  d: number,
  labels: Int32Array,
  numClasses: number,
  train: Int32Array,
  test: Int32Array,
): number {
  const centroids = new Float64Array(numClasses * d);
  for (const i of train) {
    for (let k = 0; k < d; k++) centroids[labels[i] * d + k] += x[i * d + k];
  }
  for (let c = 0; c < numClasses; c++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += centroids[c * d + k] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < d; k++) centroids[c * d + k] *= inv;
  }
  let correct = 0;
  for (const i of test) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < numClasses; c++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += centroids[c * d + k] * x[i * d + k];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best === labels[i]) correct++;
  }
  return correct / test.length;
}

/** Run the demo and print its tables. */
export async function runDemo(): Promise<void> {
  console.log(formatRuntimeInfo(await runtimeInfo()));

  // load the embedded Cora files (checksums and counts are verified)
  let t = performance.now();
  const cora = loadCora();
  const n = cora.numNodes;
  const d = cora.numFeatures;
  const features = cora.features as Float32Array;
  console.log(
    `\nCora: ${n} nodes, ${cora.graph.numEdges / 2} undirected edges, ` +
      `${d} features, ${cora.numClasses} classes (loaded in ${since(t)} ms)`,
  );

  // the GCN propagation matrix D^-1/2 (A + I) D^-1/2
  const gcnGraph = normalize(addSelfLoops(cora.graph), "sym");
  const x = tf.tensor2d(rowNormalize(features, n, d), [n, d]);

  // one propagation per aggregator, timed
  const rows: (string | number)[][] = [];
  for (const aggregate of ["sum", "mean", "max", "std"] as const) {
    t = performance.now();
    const y = propagate(cora.graph, x, { aggregate });
    y.dataSync();
    rows.push([aggregate, `${y.shape[0]} x ${y.shape[1]}`, since(t)]);
    y.dispose();
  }
  console.log("\nOne propagation over Cora's graph:");
  console.log(table(["aggregate", "output", "ms"], rows));

  // smoothing for a nearest-centroid classifier
  const { train, test } = cora.split;
  const accuracy: (string | number)[][] = [];
  let h = x;
  for (let hops = 0; hops <= 3; hops++) {
    if (hops > 0) {
      const next = propagate(gcnGraph, h, { aggregate: "sum" });
      if (h !== x) h.dispose();
      h = next;
    }
    const acc = nearestCentroidAccuracy(
      h.dataSync() as Float32Array,
      d,
      cora.labels,
      cora.numClasses,
      train,
      test,
    );
    accuracy.push([hops, (100 * acc).toFixed(1)]);
  }
  if (h !== x) h.dispose();
  x.dispose();
  console.log(
    "\nNearest-centroid test accuracy (public split: " +
      `${train.length} train, ${test.length} test) after k rounds of ` +
      "propagation with D^-1/2 (A + I) D^-1/2:",
  );
  console.log(table(["k", "accuracy %"], accuracy));
}

/** Register `mpcl demo` on the program. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("runtime facts and a propagation demo on Cora")
    .action(runDemo);
}
