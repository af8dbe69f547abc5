/**
 * Edge-list files: one edge `u v [w]` per line, fields separated by
 * whitespace, `#` starting a comment (a whole line or the end of one),
 * blank lines skipped. Node ids are the integers of the file.
 *
 * An undirected file is read the way networkx's `read_edgelist` reads a
 * `Graph`: a pair listed twice, in either order, is one edge. A directed
 * file keeps every line as its own edge.
 */

import { randomBytes } from "node:crypto";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { GraphError, GraphFormatError } from "../errors.js";
import { undirectedEdges } from "./builders.js";
import { countingOrder, Graph } from "./graph.js";

/**
 * Largest node id a file may use: the node count must fit an int32.
 *
 * LIMITATION: ids are used as array indices, not relabelled, so a file
 * whose largest id is k allocates arrays of k + 1 nodes. A sparse id
 * space (say ids near 10^9) exhausts memory instead of being compacted;
 * relabel such files before reading them.
 */
const MAX_NODE_ID = 0x7ffffffe;

/** A decimal number as written by people and by `String(number)`. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Options of {@link parseEdgeList} and {@link readEdgeList}. */
export interface ParseEdgeListOptions {
  /** Name of the source in error messages (default `"<string>"`). */
  path?: string;
  /**
   * Whether each line is one directed edge u → v (default false). When
   * false, each distinct pair is one undirected edge, stored as the two
   * edges u → v and v → u (a self-loop as the single edge u → u).
   */
  directed?: boolean;
  /**
   * Whether lines carry a weight. `"auto"` (the default): the first edge
   * line decides, and every other line must agree with it. `true`: every
   * line needs three fields; `false`: every line needs two. An unweighted
   * file gives an unweighted graph.
   */
  weighted?: "auto" | boolean;
  /**
   * Number of nodes; ids must lie below it. Default: one more than the
   * largest id in the file (0 for a file without edges), so isolated
   * nodes after the largest id need this option to be kept.
   */
  numNodes?: number;
}

/**
 * Parse the text of an edge list (format in the file banner) into a
 * `Graph`.
 *
 * Undirected (the default): a pair (u, v) listed again, as `u v` or
 * `v u`, is the same edge and is kept once; listed again with a different
 * weight, it is an error reported at the line of the later occurrence.
 * Directed: every line is one edge, duplicates included.
 *
 * Raises `GraphFormatError` with `path` and the 1-based `line` for a line
 * with the wrong number of fields, a node id that is not a non-negative
 * integer (or is >= `numNodes`, or >= 2^31 - 1), a weight that is not a
 * finite non-negative number (in float32), a weighted line in an
 * unweighted file or the reverse, and a repeated undirected pair with
 * another weight. Errors of single lines are found first, in line order;
 * conflicts between repeated pairs are checked once every line has
 * parsed. Raises `GraphError` for an invalid `numNodes`.
 */
export function parseEdgeList(
  text: string,
  options: ParseEdgeListOptions = {},
): Graph {
  const fn = "parseEdgeList";
  const path = options.path ?? "<string>";
  const directed = options.directed ?? false;
  const numNodesOption = options.numNodes;
  if (typeof text !== "string") {
    throw new GraphError(`${fn}: expected the text as a string, got ${text}`);
  }
  if (
    numNodesOption !== undefined &&
    !(Number.isInteger(numNodesOption) && numNodesOption >= 0)
  ) {
    throw new GraphError(
      `${fn}: numNodes must be a non-negative integer, got ${numNodesOption}`,
    );
  }
  const auto = options.weighted === undefined || options.weighted === "auto";
  if (!auto && typeof options.weighted !== "boolean") {
    throw new GraphError(
      `${fn}: weighted must be "auto", true or false, got ` +
        `${String(options.weighted)}`,
    );
  }
  let weighted: boolean | null = auto ? null : (options.weighted as boolean);
  const idBound =
    numNodesOption !== undefined && numNodesOption <= MAX_NODE_ID
      ? { value: numNodesOption, name: `numNodes = ${numNodesOption}` }
      : { value: MAX_NODE_ID + 1, name: "2^31 - 1" };

  // first we parse every line, checking it on its own
  const us: number[] = [];
  const vs: number[] = [];
  const ws: number[] = [];
  const lines: number[] = [];
  let maxId = -1;
  const textLines = text.split(/\r\n|\n|\r/);
  for (let k = 0; k < textLines.length; k++) {
    const raw = textLines[k];
    const hash = raw.indexOf("#");
    const content = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (content === "") continue;
    const fields = content.split(/\s+/);

    // the first edge line decides whether weights are expected
    if (weighted === null && (fields.length === 2 || fields.length === 3)) {
      weighted = fields.length === 3;
    }
    const edge = parseFields(fields, weighted ?? false, auto, idBound);
    if ("error" in edge) {
      throw new GraphFormatError(path, k + 1, `${fn}: ${edge.error}`);
    }
    us.push(edge.u);
    vs.push(edge.v);
    ws.push(edge.w);
    lines.push(k + 1);
    maxId = Math.max(maxId, edge.u, edge.v);
  }
  const numNodes = numNodesOption ?? maxId + 1;
  const weights = weighted === true;

  // directed case: every line is an edge
  if (directed) {
    return Graph.fromEdges(us, vs, {
      numNodes,
      weights: weights ? ws : null,
    });
  }

  // undirected case: keep the first line of each pair, both ways
  const keep = firstOfEachPair(us, vs, numNodes);
  const conflict = firstConflict(ws, keep);
  if (conflict !== null) {
    throw new GraphFormatError(
      path,
      lines[conflict.line],
      `${fn}: the pair ${us[conflict.line]} ${vs[conflict.line]} is ` +
        `repeated with weight ${ws[conflict.line]}, but line ` +
        `${lines[conflict.first]} gave it weight ${ws[conflict.first]}`,
    );
  }
  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  for (let e = 0; e < us.length; e++) {
    if (keep[e] !== e) continue;
    src.push(us[e]);
    dst.push(vs[e]);
    w.push(ws[e]);
    if (us[e] !== vs[e]) {
      src.push(vs[e]);
      dst.push(us[e]);
      w.push(ws[e]);
    }
  }
  return Graph.fromEdges(src, dst, { numNodes, weights: weights ? w : null });
}

/**
 * The edge of one line split into fields, or what is wrong with it:
 * `weighted` says whether a third field is expected (`auto`: because
 * the first edge line had one), and ids must lie below `idBound`.
 */
function parseFields(
  fields: string[],
  weighted: boolean,
  auto: boolean,
  idBound: { value: number; name: string },
): { u: number; v: number; w: number } | { error: string } {
  // the number of fields, and whether it agrees with the weight mode
  if (fields.length !== 2 && fields.length !== 3) {
    return {
      error: `expected 2 or 3 fields (u v [w]), got ${fields.length}`,
    };
  }
  const want = weighted ? 3 : 2;
  if (fields.length !== want) {
    return {
      error: auto
        ? `expected ${want} fields like the first edge line (weighted ` +
          `and unweighted lines cannot mix), got ${fields.length}`
        : `expected ${want} fields (weighted: ${weighted}), got ` +
          `${fields.length}`,
    };
  }

  // the node ids: decimal digits only, below the bound
  const ids = [0, 0];
  for (let f = 0; f < 2; f++) {
    const token = fields[f];
    if (!/^\d+$/.test(token)) {
      return {
        error: `expected a non-negative integer node id, got "${token}"`,
      };
    }
    ids[f] = Number(token);
    if (ids[f] >= idBound.value) {
      return {
        error: `expected a node id below ${idBound.name}, got ${token}`,
      };
    }
  }

  // the weight, finite and non-negative once stored as float32
  let w = 1;
  if (weighted) {
    const token = fields[2];
    w = DECIMAL.test(token) ? Number(token) : Number.NaN;
    if (!Number.isFinite(Math.fround(w))) {
      return { error: `expected a finite (float32) weight, got "${token}"` };
    }
    if (w < 0) {
      return { error: `expected a non-negative weight, got "${token}"` };
    }
    w += 0; // -0 becomes 0
  }
  return { u: ids[0], v: ids[1], w };
}

/**
 * For every line e, the first line that lists the same unordered pair
 * (e itself when it is the first). Two stable counting sorts, by the
 * larger id and then by the smaller, group the pairs in line order.
 */
function firstOfEachPair(
  us: number[],
  vs: number[],
  numNodes: number,
): Int32Array {
  const m = us.length;
  const lo = new Int32Array(m);
  const hi = new Int32Array(m);
  for (let e = 0; e < m; e++) {
    lo[e] = Math.min(us[e], vs[e]);
    hi[e] = Math.max(us[e], vs[e]);
  }
  const order = countingOrder(lo, numNodes, countingOrder(hi, numNodes, null));
  const first = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const e = order[k];
    const prev = k > 0 ? order[k - 1] : -1;
    const same = prev >= 0 && lo[prev] === lo[e] && hi[prev] === hi[e];
    first[e] = same ? first[prev] : e;
  }
  return first;
}

/**
 * The earliest line that repeats a pair with another weight than its
 * first listing, as `{ line, first }` indices into the parsed lines, or
 * null when there is none.
 */
function firstConflict(
  ws: number[],
  keep: Int32Array,
): { line: number; first: number } | null {
  for (let e = 0; e < keep.length; e++) {
    if (ws[e] !== ws[keep[e]]) return { line: e, first: keep[e] };
  }
  return null;
}

/**
 * Read an edge-list file (see {@link parseEdgeList} for the format, the
 * options and the errors; `path` names the file in errors). Errors of
 * the file system (missing file, no permission) are Node's own.
 */
export async function readEdgeList(
  path: string,
  options: Omit<ParseEdgeListOptions, "path"> = {},
): Promise<Graph> {
  const text = await readFile(path, "utf8");
  return parseEdgeList(text, { ...options, path });
}

/** Options of {@link formatEdgeList} and {@link writeEdgeList}. */
export interface FormatEdgeListOptions {
  /**
   * Write every directed edge on its own line (true), or each undirected
   * edge once, as `u v` with u ≤ v (false, the default, which needs a
   * symmetric graph without repeated pairs). Read the file back with the
   * same `directed` value.
   */
  directed?: boolean;
}

/**
 * The edge-list text of a graph, which {@link parseEdgeList} reads back
 * to the same graph (with the same `directed` and, when the last nodes
 * have no edges, `numNodes`). Lines follow CSR order; a weighted graph
 * gets a third field with the shortest decimal that gives back the same
 * float32. A comment line first states the node and edge counts.
 *
 * Undirected (the default): raises `GraphError` unless every edge u → v
 * has a twin v → u of the same weight and no pair carries two edges
 * (coalesce or symmetrize the graph first, or write it directed).
 */
export function formatEdgeList(
  graph: Graph,
  options: FormatEdgeListOptions = {},
): string {
  const fn = "formatEdgeList";
  const directed = options.directed ?? false;
  const { rowPtr, colIdx, weights } = graph;
  const field = (e: number): string =>
    weights === null ? "" : ` ${shortestFloat32(weights[e])}`;

  // directed case: one line per edge, `src dst [w]`
  const out: string[] = [];
  if (directed) {
    out.push(header(graph, "directed", graph.numEdges));
    for (let i = 0; i < graph.numNodes; i++) {
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        out.push(`${colIdx[e]} ${i}${field(e)}`);
      }
    }
    return `${out.join("\n")}\n`;
  }

  // undirected case: each pair once, after checking twins and repeats
  for (let i = 0; i < graph.numNodes; i++) {
    for (let e = rowPtr[i] + 1; e < rowPtr[i + 1]; e++) {
      if (colIdx[e] === colIdx[e - 1]) {
        throw new GraphError(
          `${fn}: an undirected edge list holds one edge per pair, but ` +
            `${colIdx[e]} -> ${i} appears more than once (coalesce first ` +
            "or write it directed)",
        );
      }
    }
  }
  const pairs = undirectedEdges(graph, fn);
  out.push(header(graph, "undirected", pairs.length));
  for (const [e, j, i] of pairs) out.push(`${j} ${i}${field(e)}`);
  return `${out.join("\n")}\n`;
}

/** The comment line that opens a written edge list. */
function header(graph: Graph, kind: string, lines: number): string {
  const weighted = graph.isWeighted ? "weighted" : "unweighted";
  return (
    `# mpcl edge list: ${graph.numNodes} nodes, ${lines} ${kind} ` +
    `edges, ${weighted}`
  );
}

/** The shortest decimal string whose float32 rounding is `w`. */
function shortestFloat32(w: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const v = Number(w.toPrecision(digits));
    if (Math.fround(v) === w) return String(v);
  }
  return String(w);
}

/**
 * Write a graph as an edge list (see {@link formatEdgeList} for the text
 * and the options). The write is atomic: the text goes to a temporary
 * file in the same folder, which is then renamed over `path`, so a reader
 * never sees half a file. Errors of the file system are Node's own.
 */
export async function writeEdgeList(
  graph: Graph,
  path: string,
  options: FormatEdgeListOptions = {},
): Promise<void> {
  const text = formatEdgeList(graph, options);
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`,
  );
  try {
    await writeFile(tmp, text, "utf8");
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
