/**
 * Fused multi-head graph attention on typed arrays: the score, the
 * LeakyReLU, the softmax over each node's incoming edges, attention
 * dropout and the weighted sum of GAT (Veličković et al. 2018, "Graph
 * Attention Networks") in one pass over the CSR rows, with a gradient
 * derived by hand. Also the pieces that GATv2 (Brody et al. 2022) and
 * attentive alignment need: the coefficients alone, the per-head scores
 * of node features, and the multi-head weighted sum for given weights.
 *
 * All heads live in one `[N, heads · units]` tensor (head k owns the
 * columns `k · units .. (k + 1) · units − 1`), so no head is ever sliced
 * out: slicing columns is a strided copy that TF.js's WASM backend runs
 * slowly.
 *
 * Every loop visits destinations in CSR order and their edges in CSR
 * order, forward and backward, so results are bit-for-bit deterministic.
 *
 * LIMITATION: the gradients are computed on typed arrays outside the
 * tape, so second derivatives through these ops are not available.
 */

import { tf } from "../backend.js";
import { ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";

/** Options of {@link attentionAggregate}. */
export interface AttentionAggregateOptions {
  /** Slope of the LeakyReLU for negative scores; default 0.2. */
  negativeSlope?: number;
  /**
   * Multipliers of the coefficients, `[E · heads]` row-major (edge e,
   * head k at `e · heads + k`, CSR edge order), e.g. an inverted dropout
   * mask; not differentiated. Default none (all ones).
   */
  mask?: Float32Array | null;
}

/** The float32 data of a tensor (a copy or the backend's own array). */
function floats(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** Check a float32 `[rows, cols]` matrix with `cols` a multiple. */
function checkShape(
  fn: string,
  name: string,
  t: tf.Tensor,
  rows: number,
  cols: number | null,
): number {
  if (t.rank !== 2 || t.dtype !== "float32" || t.shape[0] !== rows) {
    throw new ShapeError(
      `${fn}: ${name} must be a float32 matrix with ${rows} rows, got ` +
        `${t.dtype} of shape [${t.shape}]`,
    );
  }
  const c = t.shape[1] as number;
  if (cols !== null && c !== cols) {
    throw new ShapeError(
      `${fn}: ${name} must have ${cols} columns, got shape [${t.shape}]`,
    );
  }
  return c;
}

/** Check the scores `[N, heads]` and features `[N, heads · units]`. */
function checkAttentionArgs(
  fn: string,
  graph: Graph,
  sSrc: tf.Tensor,
  sDst: tf.Tensor,
  h: tf.Tensor | null,
): { heads: number; units: number } {
  const n = graph.numNodes;
  const heads = checkShape(fn, "sSrc", sSrc, n, null);
  if (heads < 1) {
    throw new ShapeError(`${fn}: sSrc must have >= 1 column, got 0`);
  }
  checkShape(fn, "sDst", sDst, n, heads);
  if (h === null) return { heads, units: 0 };
  const width = checkShape(fn, "h", h, n, null);
  if (width % heads !== 0 || width === 0) {
    throw new ShapeError(
      `${fn}: h must have heads · units columns (a positive multiple of ` +
        `${heads}), got shape [${h.shape}]`,
    );
  }
  return { heads, units: width / heads };
}

/**
 * The softmax of LeakyReLU scores over the incoming edges of every node,
 * per head, on typed arrays: `alpha[e · H + k]` for edge e (CSR order)
 * and head k. Exponentials in float64 after subtracting each segment's
 * maximum; stored as float32.
 */
function coefficients(
  graph: Graph,
  sSrc: Float32Array,
  sDst: Float32Array,
  heads: number,
  slope: number,
): Float32Array {
  const { rowPtr, colIdx, numNodes } = graph;
  const alpha = new Float32Array(graph.numEdges * heads);
  const scores = new Float64Array(alpha.length);
  for (let i = 0; i < numNodes; i++) {
    const a = rowPtr[i];
    const b = rowPtr[i + 1];
    if (a === b) continue;
    for (let k = 0; k < heads; k++) {
      const d = sDst[i * heads + k];

      // the scores and their maximum
      let top = Number.NEGATIVE_INFINITY;
      for (let e = a; e < b; e++) {
        const raw = Math.fround(sSrc[colIdx[e] * heads + k] + d);
        const z = raw > 0 ? raw : raw * slope;
        scores[e * heads + k] = z;
        if (z > top) top = z;
      }

      // then the normaliser, then the ratios
      let total = 0;
      for (let e = a; e < b; e++) {
        const v = Math.exp(scores[e * heads + k] - top);
        scores[e * heads + k] = v;
        total += v;
      }
      for (let e = a; e < b; e++) {
        alpha[e * heads + k] = scores[e * heads + k] / total;
      }
    }
  }
  return alpha;
}

/**
 * The gradient of the scores given the gradient `dAlpha` of the
 * coefficients (`[E · H]`, float64): the softmax's Jacobian, the
 * LeakyReLU's slope, then a scatter-add to the source and destination
 * rows `[N · H]`.
 */
function scoreGradients(
  graph: Graph,
  sSrc: Float32Array,
  sDst: Float32Array,
  alpha: Float32Array,
  dAlpha: Float64Array,
  heads: number,
  slope: number,
): { dSrc: Float32Array; dDst: Float32Array } {
  const { rowPtr, colIdx, numNodes } = graph;
  const dSrc = new Float64Array(numNodes * heads);
  const dDst = new Float32Array(numNodes * heads);
  for (let i = 0; i < numNodes; i++) {
    const a = rowPtr[i];
    const b = rowPtr[i + 1];
    for (let k = 0; k < heads; k++) {
      const d = sDst[i * heads + k];
      let dot = 0;
      for (let e = a; e < b; e++) {
        dot += alpha[e * heads + k] * dAlpha[e * heads + k];
      }
      let toDst = 0;
      for (let e = a; e < b; e++) {
        const p = e * heads + k;
        const j = colIdx[e] * heads + k;
        const raw = Math.fround(sSrc[j] + d);
        const dz = alpha[p] * (dAlpha[p] - dot);
        const dRaw = raw > 0 ? dz : dz * slope;
        dSrc[j] += dRaw;
        toDst += dRaw;
      }
      dDst[i * heads + k] = toDst;
    }
  }
  return { dSrc: Float32Array.from(dSrc), dDst };
}

/**
 * Multi-head weighted gather-sum over a compressed structure, on typed
 * arrays: for every row r, head k and column c of that head,
 *
 *     out[r, k·C + c] = Σ_{p in ptr[r] .. ptr[r+1]−1}
 *                       w[edge_p · H + k] · x[idx[p], k·C + c]
 *
 * with `edge_p = p` (`edgeOf` null) or `edgeOf[p]`. Sums accumulate in
 * float64 in increasing p and are stored as float32.
 *
 * NOTE: the columns of a head are summed four at a time in local
 * variables, the edges in the inner loop: on 108k edges × 64 columns
 * this runs about five times faster than accumulating into an array.
 */
function gatherSum(
  ptr: Int32Array,
  idx: Int32Array,
  edgeOf: Int32Array | null,
  w: Float32Array,
  x: Float32Array,
  heads: number,
  units: number,
): Float32Array {
  const rows = ptr.length - 1;
  const width = heads * units;
  const out = new Float32Array(rows * width);
  const tail = units & 3;
  const main = units - tail;
  for (let r = 0; r < rows; r++) {
    const a = ptr[r];
    const b = ptr[r + 1];
    if (a === b) continue;
    const base = r * width;
    for (let k = 0; k < heads; k++) {
      const head = k * units;

      // four columns at a time, then the remaining one to three
      for (let c = head; c < head + main; c += 4) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let p = a; p < b; p++) {
          const e = edgeOf === null ? p : edgeOf[p];
          const v = w[e * heads + k];
          const q = idx[p] * width + c;
          s0 += v * x[q];
          s1 += v * x[q + 1];
          s2 += v * x[q + 2];
          s3 += v * x[q + 3];
        }
        out[base + c] = s0;
        out[base + c + 1] = s1;
        out[base + c + 2] = s2;
        out[base + c + 3] = s3;
      }
      for (let c = head + main; c < head + units; c++) {
        let s0 = 0;
        for (let p = a; p < b; p++) {
          const e = edgeOf === null ? p : edgeOf[p];
          s0 += w[e * heads + k] * x[idx[p] * width + c];
        }
        out[base + c] = s0;
      }
    }
  }
  return out;
}

/**
 * The effective edge weights `w = alpha ⊙ mask` `[E · H]` (alpha itself
 * when there is no mask).
 */
function maskedWeights(
  alpha: Float32Array,
  mask: Float32Array | null,
): Float32Array {
  if (mask === null) return alpha;
  const w = new Float32Array(alpha.length);
  for (let p = 0; p < w.length; p++) w[p] = alpha[p] * mask[p];
  return w;
}

/**
 * Multi-head weighted sum over the incoming edges on typed arrays:
 * `out[i, k·C + c] = Σ_e w[e, k] h[src_e, k·C + c]` in CSR order.
 */
function weightedSum(
  graph: Graph,
  h: Float32Array,
  w: Float32Array,
  heads: number,
  units: number,
): Float32Array {
  return gatherSum(graph.rowPtr, graph.colIdx, null, w, h, heads, units);
}

/**
 * The backward pass of {@link weightedSum} for the upstream gradient `g`
 * `[N, H·C]`: `dh[j] = Σ_{e: j → i} w[e, k] g[i]` per head, summed over
 * the source-ordered edges (a gather, in increasing CSR position), and
 * `dw[e, k] = Σ_c g[i, k·C + c] h[j, k·C + c]` (float64, `[E · H]`).
 */
function weightedSumBackward(
  graph: Graph,
  h: Float32Array,
  w: Float32Array,
  g: Float32Array,
  heads: number,
  units: number,
): { dh: Float32Array; dw: Float64Array } {
  const { colPtr, rowIdx, edgeIds } = graph.sourceCSR;
  const dh = gatherSum(colPtr, rowIdx, edgeIds, w, g, heads, units);

  // the per-edge, per-head dot products, four columns at a time
  const { rowPtr, colIdx, numNodes } = graph;
  const width = heads * units;
  const dw = new Float64Array(graph.numEdges * heads);
  const tail = units & 3;
  const main = units - tail;
  for (let i = 0; i < numNodes; i++) {
    const gi = i * width;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const hj = colIdx[e] * width;
      const o = e * heads;
      for (let k = 0; k < heads; k++) {
        const head = k * units;
        let s0 = 0;
        let s1 = 0;
        for (let c = head; c < head + main; c += 4) {
          s0 += g[gi + c] * h[hj + c] + g[gi + c + 2] * h[hj + c + 2];
          s1 += g[gi + c + 1] * h[hj + c + 1] + g[gi + c + 3] * h[hj + c + 3];
        }
        for (let c = head + main; c < head + units; c++) {
          s0 += g[gi + c] * h[hj + c];
        }
        dw[o + k] = s0 + s1;
      }
    }
  }
  return { dh, dw };
}

/**
 * Fused multi-head GAT attention and aggregation. For every edge j → i
 * of `graph` (CSR order) and head k,
 *
 *     e_ij^k = LeakyReLU(sSrc[j, k] + sDst[i, k])
 *     α_ij^k = exp(e_ij^k) / Σ_{j' → i} exp(e_ij'^k)
 *     out[i, k·C + c] = Σ_{j → i} α_ij^k m_ij^k h[j, k·C + c]
 *
 * with `m` the optional `mask` (attention dropout) and C = units. The
 * softmax subtracts each node's maximum and runs in float64; the sums
 * accumulate in float64 and are stored as float32. Nodes without
 * incoming edges give 0. The graph's edge weights are ignored.
 *
 * Shapes: `h` `[N, heads · C]`, `sSrc` and `sDst` `[N, heads]`, output
 * `[N, heads · C]`. Differentiable in `h`, `sSrc` and `sDst`; with
 * `w = α ⊙ m`, `g` the upstream gradient and
 * `δ_ij^k = m_ij^k Σ_c g[i, k·C + c] h[j, k·C + c]`:
 *
 *     dh[j] = Σ_{i ← j} w_ij g[i]  (per head)
 *     dz_ij = α_ij (δ_ij − Σ_{j'} α_ij' δ_ij')
 *     dsSrc[j] = Σ_{i ← j} dz_ij · LeakyReLU'(·),  dsDst[i] = Σ_{j → i} …
 *
 * Raises `ShapeError` on shapes that do not match the graph, and on a
 * mask of the wrong length.
 */
export function attentionAggregate(
  graph: Graph,
  h: tf.Tensor2D,
  sSrc: tf.Tensor2D,
  sDst: tf.Tensor2D,
  options: AttentionAggregateOptions = {},
): tf.Tensor2D {
  const fn = "attentionAggregate";
  const { heads, units } = checkAttentionArgs(fn, graph, sSrc, sDst, h);
  const slope = options.negativeSlope ?? 0.2;
  const mask = options.mask ?? null;
  if (mask !== null && mask.length !== graph.numEdges * heads) {
    throw new ShapeError(
      `${fn}: mask must have numEdges · heads = ` +
        `${graph.numEdges * heads} entries, got ${mask.length}`,
    );
  }
  const n = graph.numNodes;
  const width = heads * units;
  const op = tf.customGrad((ht, st, dt) => {
    const hv = floats(ht as tf.Tensor);
    const sv = floats(st as tf.Tensor);
    const dv = floats(dt as tf.Tensor);
    const alpha = coefficients(graph, sv, dv, heads, slope);
    const w = maskedWeights(alpha, mask);
    const out = weightedSum(graph, hv, w, heads, units);
    return {
      value: tf.tensor2d(out, [n, width]),
      gradFunc: (dy: tf.Tensor) => {
        const g = floats(dy);
        const { dh, dw } = weightedSumBackward(graph, hv, w, g, heads, units);
        if (mask !== null) {
          for (let p = 0; p < dw.length; p++) dw[p] *= mask[p];
        }
        const { dSrc, dDst } = scoreGradients(
          graph,
          sv,
          dv,
          alpha,
          dw,
          heads,
          slope,
        );
        return [
          tf.tensor2d(dh, [n, width]),
          tf.tensor2d(dSrc, [n, heads]),
          tf.tensor2d(dDst, [n, heads]),
        ];
      },
    };
  });
  return op(h, sSrc, sDst) as tf.Tensor2D;
}

/**
 * The attention coefficients of {@link attentionAggregate} alone:
 * `α[e, k]` `[E, heads]` in CSR edge order, the softmax over the
 * incoming edges of each node of `LeakyReLU(sSrc[j, k] + sDst[i, k])`
 * (so each node's coefficients sum to 1 per head). Differentiable in
 * `sSrc` and `sDst` (`[N, heads]`); `negativeSlope` defaults to 0.2.
 * Raises `ShapeError` on shapes that do not match the graph.
 */
export function attentionCoefficients(
  graph: Graph,
  sSrc: tf.Tensor2D,
  sDst: tf.Tensor2D,
  options: { negativeSlope?: number } = {},
): tf.Tensor2D {
  const fn = "attentionCoefficients";
  const { heads } = checkAttentionArgs(fn, graph, sSrc, sDst, null);
  const slope = options.negativeSlope ?? 0.2;
  const n = graph.numNodes;
  const op = tf.customGrad((st, dt) => {
    const sv = floats(st as tf.Tensor);
    const dv = floats(dt as tf.Tensor);
    const alpha = coefficients(graph, sv, dv, heads, slope);
    return {
      value: tf.tensor2d(alpha, [graph.numEdges, heads]),
      gradFunc: (dy: tf.Tensor) => {
        const g = Float64Array.from(floats(dy));
        const { dSrc, dDst } = scoreGradients(
          graph,
          sv,
          dv,
          alpha,
          g,
          heads,
          slope,
        );
        return [tf.tensor2d(dSrc, [n, heads]), tf.tensor2d(dDst, [n, heads])];
      },
    };
  });
  return op(sSrc, sDst) as tf.Tensor2D;
}

/**
 * Multi-head weighted sum over the incoming edges for given edge
 * weights: `out[i, k·C + c] = Σ_{j → i} w[e, k] h[j, k·C + c]` with e the
 * edge j → i in CSR order. Shapes: `h` `[N, heads · C]`, `weights`
 * `[E, heads]`, output `[N, heads · C]`; differentiable in both
 * (`dh[j] = Σ_e w[e] g[i]`, `dw[e, k] = g[i, head k] · h[j, head k]`).
 * GATv2 aggregates its softmax coefficients with it. Raises
 * `ShapeError` on shapes that do not match the graph.
 */
export function multiHeadAggregate(
  graph: Graph,
  h: tf.Tensor2D,
  weights: tf.Tensor2D,
): tf.Tensor2D {
  const fn = "multiHeadAggregate";
  const heads = checkShape(fn, "weights", weights, graph.numEdges, null);
  const width = checkShape(fn, "h", h, graph.numNodes, null);
  if (heads < 1 || width === 0 || width % heads !== 0) {
    throw new ShapeError(
      `${fn}: h must have heads · units columns (a positive multiple of ` +
        `the ${heads} columns of weights), got shape [${h.shape}]`,
    );
  }
  const units = width / heads;
  const n = graph.numNodes;
  const op = tf.customGrad((ht, wt) => {
    const hv = floats(ht as tf.Tensor);
    const wv = floats(wt as tf.Tensor);
    const out = weightedSum(graph, hv, wv, heads, units);
    return {
      value: tf.tensor2d(out, [n, width]),
      gradFunc: (dy: tf.Tensor) => {
        const { dh, dw } = weightedSumBackward(
          graph,
          hv,
          wv,
          floats(dy),
          heads,
          units,
        );
        return [
          tf.tensor2d(dh, [n, width]),
          tf.tensor2d(Float32Array.from(dw), [graph.numEdges, heads]),
        ];
      },
    };
  });
  return op(h, weights) as tf.Tensor2D;
}

/**
 * Per-head scores of node features: `s[i, k] = Σ_c h[i, k·C + c]
 * att[k, c]` for `h` `[N, heads · C]` and `att` `[heads, C]`, output
 * `[N, heads]`. Differentiable in both, on typed arrays
 * (`dh[i, k·C + c] = g[i, k] att[k, c]`,
 * `datt[k, c] = Σ_i g[i, k] h[i, k·C + c]`, summed in node order).
 * Raises `ShapeError` when the widths disagree.
 */
export function headScores(h: tf.Tensor2D, att: tf.Tensor2D): tf.Tensor2D {
  const fn = "headScores";
  if (h.rank !== 2 || att.rank !== 2) {
    throw new ShapeError(
      `${fn}: h and att must be matrices, got shapes [${h.shape}] and ` +
        `[${att.shape}]`,
    );
  }
  const [n, width] = h.shape;
  const [heads, units] = att.shape;
  if (heads * units !== width) {
    throw new ShapeError(
      `${fn}: h must have heads · units = ${heads * units} columns for ` +
        `att of shape [${att.shape}], got shape [${h.shape}]`,
    );
  }
  const op = tf.customGrad((ht, at) => {
    const hv = floats(ht as tf.Tensor);
    const av = floats(at as tf.Tensor);
    const s = new Float32Array(n * heads);
    for (let i = 0; i < n; i++) {
      const hi = i * width;
      for (let k = 0; k < heads; k++) {
        const base = k * units;
        let acc = 0;
        for (let c = 0; c < units; c++) acc += hv[hi + base + c] * av[base + c];
        s[i * heads + k] = acc;
      }
    }
    return {
      value: tf.tensor2d(s, [n, heads]),
      gradFunc: (dy: tf.Tensor) => {
        const g = floats(dy);
        const dh = new Float32Array(n * width);
        const da = new Float64Array(width);
        for (let i = 0; i < n; i++) {
          const hi = i * width;
          for (let k = 0; k < heads; k++) {
            const gk = g[i * heads + k];
            const base = k * units;
            for (let c = 0; c < units; c++) {
              dh[hi + base + c] = gk * av[base + c];
              da[base + c] += gk * hv[hi + base + c];
            }
          }
        }
        return [
          tf.tensor2d(dh, [n, width]),
          tf.tensor2d(Float32Array.from(da), [heads, units]),
        ];
      },
    };
  });
  return op(h, att) as tf.Tensor2D;
}
