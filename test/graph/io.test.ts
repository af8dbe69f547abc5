/**
 * Edge-list files: parsing (undirected as networkx reads a Graph, and
 * directed), every error case with its class, path and line, and write /
 * read round trips through the file system.
 */

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphError, GraphFormatError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import {
  formatEdgeList,
  parseEdgeList,
  readEdgeList,
  writeEdgeList,
} from "../../src/graph/io.js";
import { coalesce, symmetrize } from "../../src/graph/transforms.js";
import { mulberry32, randInt, randomEdges } from "../helpers/random.js";

const fixture = join(
  import.meta.dirname,
  "..",
  "fixtures",
  "small-undirected.edgelist",
);

/** The edges as sorted `src dst w` strings. */
function edgeMultiset(g: Graph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.numEdges; e++) {
    out.push(`${g.src[e]} ${g.dst[e]} ${g.weight(e)}`);
  }
  return out.sort();
}

/** The error thrown by `f`, which must be a GraphFormatError. */
function formatError(f: () => unknown): GraphFormatError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(GraphFormatError);
    return err as GraphFormatError;
  }
  throw new Error("expected a GraphFormatError, nothing was thrown");
}

describe("parseEdgeList", () => {
  it("reads an undirected list: repeats in either order are one edge", () => {
    const g = parseEdgeList("0 1\n1 2\n1 0\n2 2\n");
    expect(g.numNodes).toBe(3);
    expect(g.isWeighted).toBe(false);
    expect(edgeMultiset(g)).toEqual([
      "0 1 1",
      "1 0 1",
      "1 2 1",
      "2 1 1",
      "2 2 1",
    ]);
  });

  it("reads a directed list: every line is an edge", () => {
    const g = parseEdgeList("0 1 2\n0 1 3\n1 0 2\n", { directed: true });
    expect(g.isWeighted).toBe(true);
    expect(edgeMultiset(g)).toEqual(["0 1 2", "0 1 3", "1 0 2"]);
    // duplicates keep their line order
    expect(Array.from(g.weights as Float32Array)).toEqual([2, 2, 3]);
  });

  it("skips comments, blank lines and any whitespace or line ending", () => {
    const text = "# header\n\n  0\t1   # trailing\r\n#0 5\r1  2\n   \n";
    const g = parseEdgeList(text, { directed: true });
    expect(edgeMultiset(g)).toEqual(["0 1 1", "1 2 1"]);
    expect(parseEdgeList("").numNodes).toBe(0);
    expect(parseEdgeList("# only a comment\n").numEdges).toBe(0);
  });

  it("uses numNodes for trailing isolated nodes", () => {
    expect(parseEdgeList("0 1", { numNodes: 5 }).numNodes).toBe(5);
    expect(parseEdgeList("", { numNodes: 2 }).numNodes).toBe(2);
  });

  it("reads weights in every decimal form", () => {
    const g = parseEdgeList("0 1 .5\n0 2 1.\n0 3 2.5e-1\n0 4 +3\n0 5 -0\n", {
      directed: true,
    });
    expect(Array.from(g.weights as Float32Array)).toEqual([0.5, 1, 0.25, 3, 0]);
    expect(Object.is((g.weights as Float32Array)[4], -0)).toBe(false);
  });

  it("forces the weight mode with weighted: true / false", () => {
    expect(parseEdgeList("0 1 1", { weighted: true }).isWeighted).toBe(true);
    const e1 = formatError(() => parseEdgeList("0 1", { weighted: true }));
    expect(e1.line).toBe(1);
    const e2 = formatError(() =>
      parseEdgeList("0 1\n1 2 3", { weighted: false }),
    );
    expect(e2.line).toBe(2);
  });

  const cases: Array<[string, string, number]> = [
    ["one field", "0 1\n2\n", 2],
    ["four fields", "0 1 1 1\n", 1],
    ["negative id", "0 1\n-1 2\n", 2],
    ["non-integer id", "0 1.5\n", 1],
    ["id with a sign", "+1 2\n", 1],
    ["id in exponent form", "1e3 2\n", 1],
    ["alphabetic id", "a b\n", 1],
    ["id of 2^31 - 1", "0 2147483647\n", 1],
    ["huge id", "0 99999999999999999999\n", 1],
    ["NaN weight", "0 1 nan\n", 1],
    ["Infinity weight", "0 1 Infinity\n", 1],
    ["float64 overflow", "0 1 1e400\n", 1],
    ["float32 overflow", "0 1 1e39\n", 1],
    ["negative weight", "0 1 1\n1 2 -0.5\n", 2],
    ["hex weight", "0 1 0x10\n", 1],
    ["weighted then unweighted", "0 1 1\n\n# c\n1 2\n", 4],
    ["unweighted then weighted", "0 1\n1 2 1\n", 2],
  ];
  for (const [name, text, line] of cases) {
    it(`raises GraphFormatError with path and line: ${name}`, () => {
      for (const directed of [false, true]) {
        const err = formatError(() =>
          parseEdgeList(text, { path: "mem.txt", directed }),
        );
        expect(err.path).toBe("mem.txt");
        expect(err.line).toBe(line);
      }
    });
  }

  it("names ids at or beyond numNodes", () => {
    const err = formatError(() => parseEdgeList("0 1\n2 3\n", { numNodes: 3 }));
    expect(err.line).toBe(2);
    expect(err.path).toBe("<string>");
  });

  it("reports a repeated pair with another weight at the later line", () => {
    const text = "0 1 1\n2 3 1\n3 2 1\n1 0 2\n0 1 1\n2 3 5\n";
    const err = formatError(() => parseEdgeList(text, { path: "p" }));
    expect(err.line).toBe(4);
    // the same weight written differently is the same weight
    expect(parseEdgeList("0 1 0.5\n1 0 5e-1\n").numEdges).toBe(2);
    // in a directed list, repeats are separate edges
    expect(parseEdgeList(text, { directed: true }).numEdges).toBe(6);
  });

  it("reports single-line errors before conflicts between lines", () => {
    const err = formatError(() => parseEdgeList("0 1 1\n1 0 2\n5 x 1\n"));
    expect(err.line).toBe(3);
  });

  it("raises GraphError for an invalid numNodes or weighted", () => {
    for (const numNodes of [-1, 1.5, Number.NaN]) {
      expect(() => parseEdgeList("0 1", { numNodes })).toThrow(GraphError);
    }
    const weighted = "yes" as "auto";
    expect(() => parseEdgeList("0 1", { weighted })).toThrow(GraphError);
  });
});

describe("files", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpcl-io-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the fixture", async () => {
    const g = await readEdgeList(fixture);
    expect(g.numNodes).toBe(5);
    expect(g.isWeighted).toBe(true);
    expect(edgeMultiset(g)).toEqual(
      [
        "0 1 0.5",
        "1 0 0.5",
        "1 2 2",
        "2 1 2",
        "2 0 1.25",
        "0 2 1.25",
        "3 4 3",
        "4 3 3",
        "4 4 1",
      ].sort(),
    );
  });

  it("names the file in errors", async () => {
    const path = join(dir, "bad.edgelist");
    await writeFile(path, "0 1\n\n0 x\n");
    const err = await readEdgeList(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphFormatError);
    expect((err as GraphFormatError).path).toBe(path);
    expect((err as GraphFormatError).line).toBe(3);
  });

  it("round-trips directed and undirected graphs", async () => {
    const rng = mulberry32(21);
    for (let trial = 0; trial < 30; trial++) {
      const n = randInt(rng, 1, 10);
      const { src, dst, weights } = randomEdges(rng, {
        numNodes: n,
        numEdges: randInt(rng, 0, 3 * n),
        weighted: rng() < 0.5,
      });
      const g = Graph.fromEdges(src, dst, { numNodes: n, weights });
      const path = join(dir, `g${trial}.edgelist`);

      // directed: the same CSR arrays
      await writeEdgeList(g, path, { directed: true });
      const d = await readEdgeList(path, { directed: true, numNodes: n });
      expect(Array.from(d.rowPtr)).toEqual(Array.from(g.rowPtr));
      expect(Array.from(d.colIdx)).toEqual(Array.from(g.colIdx));
      for (let e = 0; e < g.numEdges; e++) {
        expect(d.weight(e)).toBe(g.weight(e));
      }

      // undirected: a coalesced symmetric graph comes back the same
      const s = coalesce(symmetrize(g, { reduce: "max" }));
      await writeEdgeList(s, path);
      const u = await readEdgeList(path, { numNodes: n });
      expect(Array.from(u.toDense())).toEqual(Array.from(s.toDense()));
      expect(u.numEdges).toBe(s.numEdges);
    }
    // no temporary file is left behind
    const left = await readdir(dir);
    expect(left.filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("writes float32 weights exactly and short", async () => {
    const w = [0.1, 1 / 3, 3e38, 1e-30, 2];
    const g = Graph.fromEdges([0, 0, 0, 0, 0], [1, 2, 3, 4, 5], {
      weights: w,
    });
    const path = join(dir, "floats.edgelist");
    await writeEdgeList(g, path, { directed: true });
    const text = await readFile(path, "utf8");
    expect(text).toContain("0 1 0.1\n");
    expect(text).toContain("0 5 2\n");
    const back = await readEdgeList(path, { directed: true });
    expect(Array.from(back.weights as Float32Array)).toEqual(
      Array.from(g.weights as Float32Array),
    );
  });

  it("replaces an existing file", async () => {
    const path = join(dir, "replace.edgelist");
    await writeFile(path, "old content\n");
    await writeEdgeList(Graph.fromEdges([0], [0]), path);
    expect(await readFile(path, "utf8")).toMatch(/^# .*\n0 0\n$/);
  });

  it("refuses an undirected write of an asymmetric or multi graph", () => {
    const one = Graph.fromEdges([0], [1]);
    expect(() => formatEdgeList(one)).toThrow(GraphError);
    const multi = Graph.fromEdges([0, 0, 1, 1], [1, 1, 0, 0]);
    expect(() => formatEdgeList(multi)).toThrow(GraphError);
    expect(formatEdgeList(multi, { directed: true })).toContain("0 1\n0 1\n");
  });

  it("leaves the file system errors to Node", async () => {
    const missing = join(dir, "missing.edgelist");
    await expect(readEdgeList(missing)).rejects.toMatchObject({
      code: "ENOENT",
    });
    const noDir = join(dir, "no-such-dir", "g.edgelist");
    await expect(writeEdgeList(Graph.empty(1), noDir)).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});
