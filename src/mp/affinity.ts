/**
 * Affinity graphs: the dense graph whose edge weights are computed from the
 * node features themselves, processed in row blocks so that no N × N tensor
 * is ever materialised.
 *
 * With F the N × k feature matrix, τ the temperature and β an optional
 * per-column bias of the logits, the weights are
 *
 *   dot:      W[i, j] = f_i · f_j / τ
 *   softmax:  W[i, :] = softmax_j(f_i · f_j / τ + β_j)
 *
 * (`excludeSelf` removes the pair j = i). The dot graph carries the
 * uniformity update `(F Fᵀ) F` of the spectral contrastive loss (HaoChen
 * et al. 2021, "Provable Guarantees for Self-Supervised Deep Learning with
 * Spectral Contrastive Loss"); the softmax graph with β = log D carries the
 * uniformity update of InfoNCE, `P(x, x') = D_x softmax_x'(log D_x' +
 * f·f')` (Wang et al. 2023, "A Message Passing Perspective on Learning
 * Dynamics of Contrastive Learning").
 *
 * `propagate(affinity, x)` runs the default linear message with `sum` or
 * `mean` on a fused blockwise kernel whose custom gradient is blockwise
 * too; every other message or aggregator goes through `propagateCSR` one
 * complete bipartite block at a time.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import {
  type Aggregator,
  MeanAggregator,
  MultiAggregator,
  resolveAggregator,
  SumAggregator,
} from "./aggregators.js";
import { denseMatMul } from "./linear.js";
import {
  type AffinityGraphLike,
  type BipartiteCSR,
  type MessageFn,
  type PropagateOptions,
  propagateCSR,
} from "./propagate.js";

/** How an affinity graph turns feature dot products into weights. */
export type AffinityKind = "dot" | "softmax";

/** What {@link AffinityOptions.onBlock} receives after each row block. */
export interface AffinityBlockEvent {
  /** `forward` (propagation, weights) or `backward` (its gradient). */
  readonly phase: "forward" | "backward";
  /** First row of the block. */
  readonly rowStart: number;
  /** One past the last row of the block. */
  readonly rowEnd: number;
  /** Number of nodes N (rows of the whole graph). */
  readonly numNodes: number;
}

/** Options of {@link affinityGraph}. */
export interface AffinityOptions {
  /**
   * `dot` (default): `W[i, j] = f_i · f_j / τ`, the plain Gram matrix at
   * the default τ = 1. `softmax`: each row is the softmax over j of
   * `f_i · f_j / τ + logBias_j`.
   */
  kind?: AffinityKind;
  /**
   * τ > 0, default 1. It divides the dot products for both kinds: the
   * logits of `softmax`, and the weights themselves for `dot` (a scale).
   */
  temperature?: number;
  /**
   * Rows per block. Default: the largest count b with b × N ≤ 2²⁴ floats
   * (64 MB per block matrix) for the fused `sum`/`mean` path, and with
   * b × N × d ≤ 2²⁴ for the general path (whose edge messages are b × N
   * rows of d features). Results do not depend on it.
   */
  blockSize?: number;
  /**
   * Drop the pair j = i (default false): W[i, i] = 0 for `dot`, and the
   * softmax of row i runs over the other N − 1 columns.
   */
  excludeSelf?: boolean;
  /**
   * Per-column additive bias of the softmax logits, length N (default
   * none), e.g. `log D` for InfoNCE. Only for `softmax` (a `ConfigError`
   * for `dot`). A `Float32Array` is a constant; a `tf.Tensor1D` receives a
   * gradient through the fused path and {@link AffinityGraph.weightsBlock}.
   * Entries may be −∞ (a column that gets weight 0), not NaN or +∞.
   */
  logBias?: Float32Array | tf.Tensor1D;
  /**
   * Called after each row block is computed, with the block's tensors
   * still alive (default none): for progress reports, and for tests that
   * watch the memory peak.
   */
  onBlock?: (event: AffinityBlockEvent) => void;
}

/** The options of an {@link AffinityGraph}, defaults filled in. */
export interface ResolvedAffinityOptions {
  readonly kind: AffinityKind;
  readonly temperature: number;
  /** The requested block size, or null for the automatic choice. */
  readonly blockSize: number | null;
  readonly excludeSelf: boolean;
  readonly logBias: Float32Array | tf.Tensor1D | null;
  readonly onBlock: ((event: AffinityBlockEvent) => void) | null;
}

/** Floats in one block matrix under the automatic block size (2²⁴). */
const BLOCK_FLOATS = 1 << 24;

/** Largest N accepted by {@link AffinityGraph.toDense} (N² ≤ 2²⁴). */
const DENSE_MAX_NODES = 4096;

/**
 * The logit given to an excluded pair (i, i): its exp is exactly 0 in
 * float32, and unlike −∞ it gives no NaN when multiplied by 0.
 */
const MASKED_LOGIT = -1e30;

// ---------------------------------------------------------------------------
// block kernels
// ---------------------------------------------------------------------------

/**
 * The graph-level constants every block kernel needs: the kind, 1 / τ,
 * whether pairs (i, i) are excluded, and N.
 */
interface BlockContext {
  readonly kind: AffinityKind;
  readonly invTau: number;
  readonly excludeSelf: boolean;
  readonly numNodes: number;
}

/** Apply `fn` to `t`, then free `t`: a step that consumes its input. */
function consume<T extends tf.Tensor>(
  t: tf.Tensor,
  fn: (t: tf.Tensor) => T,
): T {
  const out = fn(t);
  t.dispose();
  return out;
}

/**
 * Set the entries (r, r0 + r) of a block of rows `[r0, r1)` to `value`
 * (the pairs i = j), consuming the block.
 */
function maskDiagonal(
  t: tf.Tensor,
  r0: number,
  r1: number,
  value: number,
): tf.Tensor2D {
  const b = r1 - r0;
  const index = new Int32Array(2 * b);
  for (let r = 0; r < b; r++) {
    index[2 * r] = r;
    index[2 * r + 1] = r0 + r;
  }

  // NOTE: a scatter of b values costs one copy of the block; tf.where
  // with a broadcast mask ran 15 times slower on the WASM backend
  const out = tf.tidy(() =>
    tf.tensorScatterUpdate(
      t,
      tf.tensor2d(index, [b, 2], "int32"),
      tf.fill([b], value),
    ),
  );
  t.dispose();
  return out as tf.Tensor2D;
}

/**
 * `t` ([rows, w]) with columns appended: each entry of `extra` is a
 * length-`rows` vector, or a number that fills its column. Rank-one terms
 * of a block then ride inside one product: `[A, u, 1] [B, 1, c]ᵀ =
 * A Bᵀ + u 1ᵀ + 1 cᵀ`.
 */
function withColumns(
  t: tf.Tensor2D,
  extra: Array<tf.Tensor | number>,
): tf.Tensor2D {
  if (extra.length === 0) return t;
  return tf.tidy(() => {
    const rows = t.shape[0];
    const cols = extra.map((e) =>
      typeof e === "number" ? tf.fill([rows, 1], e) : tf.reshape(e, [rows, 1]),
    );
    return tf.concat([t, ...cols], 1) as tf.Tensor2D;
  });
}

/**
 * `A Bᵀ` for A `[b, w]` against every row of B `[N, w]`: the b × N block
 * of all row pairs, on `denseMatMul` (the native GEMM where it is built,
 * reading B in place: no transposed copy).
 */
function rowProducts(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return denseMatMul(a, b, { transposeB: true });
}

/**
 * β with −∞ entries raised to {@link MASKED_LOGIT}: the transposed blocks
 * of the backward pass put β_j on row j, and a row of −∞ logits would
 * give a NaN softmax instead of zero weights.
 */
function finiteBias(bias: tf.Tensor1D | null): tf.Tensor1D | null {
  return bias === null ? null : (tf.maximum(bias, MASKED_LOGIT) as tf.Tensor1D);
}

/** Rows `[r0, r1)` of F, divided by τ (b × k). */
function scaledRows(
  ctx: BlockContext,
  f: tf.Tensor2D,
  r0: number,
  r1: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = tf.slice(f, [r0, 0], [r1 - r0, f.shape[1]]);
    return ctx.invTau === 1 ? rows : tf.mul(rows, ctx.invTau);
  });
}

/**
 * The right operand of the logits: F ([N, k]), or `[F, β]` ([N, k + 1])
 * for softmax with a bias, so that {@link blockWeights} adds β inside its
 * product.
 */
function logitOperand(
  ctx: BlockContext,
  f: tf.Tensor2D,
  bias: tf.Tensor1D | null,
): tf.Tensor2D {
  return ctx.kind === "softmax" && bias !== null
    ? withColumns(f, [bias])
    : tf.clone(f);
}

/**
 * The b × N weights of rows `[r0, r1)`, without gradient, with `fb` from
 * {@link logitOperand}: for dot `W_I = (F_I / τ) Fᵀ` (pairs i = j set to
 * 0 with `excludeSelf`); for softmax the row softmax of the logits
 * `L_I = (F_I / τ) Fᵀ + 1 βᵀ` and, when `withLse`, the row
 * log-normalisers `lse_i = log Σ_j exp L_ij` ([b]), read off the softmax
 * as `max_j L_ij − log max_j W_ij` (no exp over the block). With
 * `keepLogits`, softmax also returns L_I itself (excluded pairs at
 * {@link MASKED_LOGIT}).
 */
function blockWeights(
  ctx: BlockContext,
  f: tf.Tensor2D,
  fb: tf.Tensor2D,
  r0: number,
  r1: number,
  withLse = false,
  keepLogits = false,
): {
  w: tf.Tensor2D;
  lse: tf.Tensor1D | null;
  logits: tf.Tensor2D | null;
} {
  const out = tf.tidy((): Record<string, tf.Tensor> => {
    const fi = scaledRows(ctx, f, r0, r1);
    const left = fb.shape[1] > f.shape[1] ? withColumns(fi, [1]) : fi;
    let l = rowProducts(left, fb);
    tf.dispose([fi, left]);
    if (ctx.kind === "dot") {
      return { w: ctx.excludeSelf ? maskDiagonal(l, r0, r1, 0) : l };
    }
    if (ctx.excludeSelf) l = maskDiagonal(l, r0, r1, MASKED_LOGIT);
    const m = withLse ? tf.max(l, 1) : null;
    const w = keepLogits ? tf.softmax(l) : consume(l, (t) => tf.softmax(t));
    const parts: Record<string, tf.Tensor> = { w };
    if (m !== null) parts.lse = tf.sub(m, tf.log(tf.max(w, 1)));
    if (keepLogits) parts.logits = l;
    return parts;
  });
  return {
    w: out.w as tf.Tensor2D,
    lse: (out.lse ?? null) as tf.Tensor1D | null,
    logits: (out.logits ?? null) as tf.Tensor2D | null,
  };
}

/** Row blocks `[r0, r1)` of `blockSize` rows covering `[0, numNodes)`. */
function rowBlocks(
  numNodes: number,
  blockSize: number,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let r0 = 0; r0 < numNodes; r0 += blockSize) {
    out.push([r0, Math.min(numNodes, r0 + blockSize)]);
  }
  return out;
}

/** Concatenate along rows and free the parts. */
function joinRows<T extends tf.Tensor>(parts: T[]): T {
  if (parts.length === 1) return parts[0];
  const out = tf.concat(parts, 0) as T;
  tf.dispose(parts);
  return out;
}

/** The body of a custom-gradient op over a list of input tensors. */
type CustomBody = (
  inputs: tf.Tensor[],
  save: tf.GradSaveFunc,
) => {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
};

/**
 * `tf.customGrad` over a list of inputs: `body` receives them as an
 * array, and its `gradFunc` returns one gradient per input.
 */
function customOp(body: CustomBody): (inputs: tf.Tensor[]) => tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, gradFunc } = body(args.slice(0, -1) as tf.Tensor[], save);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradFunc(dy, saved),
    };
  });
  return (inputs) => op(...inputs);
}

/** Reports a finished block to {@link AffinityOptions.onBlock}. */
type BlockReporter = (
  phase: AffinityBlockEvent["phase"],
  rowStart: number,
  rowEnd: number,
) => void;

/**
 * The fused `Y = W X` over row blocks, with a blockwise custom gradient.
 *
 * Forward, per block I: `W_I` from `(F_I / τ) Fᵀ` ({@link blockWeights}),
 * then `Y_I = W_I X`; the row log-normalisers of softmax are kept ([N]).
 *
 * Backward, with G = dY, per block J, writing only rows J of each
 * gradient (nothing is accumulated across blocks):
 *
 *   dX_J = (W[:, J])ᵀ G
 *   dF_J = (dL_J + (dL[:, J])ᵀ) F / τ
 *   dβ_J = Σ_i dL[i, J]                     (softmax, tensor β)
 *
 * where dW = G Xᵀ and dL is dW through the weights: for softmax
 * `dL = W ⊙ (dW − c 1ᵀ)` with `c_i = Σ_j W_ij dW_ij = G_i · Y_i`, for dot
 * dW itself (0 at excluded pairs). The transposed column blocks come
 * straight from the row block J because S = F Fᵀ is symmetric:
 * `(W[:, J])ᵀ = exp((F_J / τ) Fᵀ + β_J 1ᵀ − 1 lseᵀ)` and
 * `(dW[:, J])ᵀ = X_J Gᵀ`. For dot, W is symmetric and
 * `dW_J + (dW[:, J])ᵀ = [G_J, X_J] [Xᵀ; Gᵀ]` is one product.
 *
 * Every product runs on `denseMatMul` against the N-row matrices as they
 * are stored (F, X, G, with rank-one terms appended as columns, made
 * once); at most four b × N matrices are alive at a time. Each output row
 * is one row-wise chain of float32 operations whatever the block, so the
 * result does not depend on the block size.
 */
function fusedPropagate(
  ctx: BlockContext,
  blockSize: number,
  report: BlockReporter,
  x: tf.Tensor2D,
  f: tf.Tensor2D,
  bias: tf.Tensor1D | null,
): tf.Tensor2D {
  const n = ctx.numNodes;
  const blocks = rowBlocks(n, blockSize);

  const forward = (
    xIn: tf.Tensor2D,
    fIn: tf.Tensor2D,
    bIn: tf.Tensor1D | null,
  ): tf.Tensor[] => {
    const fb = logitOperand(ctx, fIn, bIn);
    const ys: tf.Tensor2D[] = [];
    const lses: tf.Tensor1D[] = [];
    for (const [r0, r1] of blocks) {
      const { w, lse } = blockWeights(ctx, fIn, fb, r0, r1, true);
      ys.push(denseMatMul(w, xIn));
      report("forward", r0, r1);
      w.dispose();
      if (lse !== null) lses.push(lse);
    }
    fb.dispose();
    const y = joinRows(ys);
    return lses.length === 0 ? [y] : [y, joinRows(lses)];
  };

  const backwardDot = (
    g: tf.Tensor2D,
    xIn: tf.Tensor2D,
    fIn: tf.Tensor2D,
  ): tf.Tensor[] => {
    const d = xIn.shape[1];
    const fb = logitOperand(ctx, fIn, null);
    const xg = tf.concat([xIn, g], 1) as tf.Tensor2D;
    const dxs: tf.Tensor2D[] = [];
    const dfs: tf.Tensor2D[] = [];
    for (const [r0, r1] of blocks) {
      const b = r1 - r0;
      const [dx, df] = tf.tidy(() => {
        const w = blockWeights(ctx, fIn, fb, r0, r1).w;
        const dx = denseMatMul(w, g);
        w.dispose();

        // dW_J + (dW[:, J])ᵀ = G_J Xᵀ + X_J Gᵀ, 0 at excluded pairs
        const gx = tf.concat(
          [tf.slice(g, [r0, 0], [b, d]), tf.slice(xIn, [r0, 0], [b, d])],
          1,
        ) as tf.Tensor2D;
        let dl = rowProducts(gx, xg);
        if (ctx.excludeSelf) dl = maskDiagonal(dl, r0, r1, 0);
        const df = consume(dl, (t) => denseMatMul(t as tf.Tensor2D, fIn));
        report("backward", r0, r1);
        return [dx, ctx.invTau === 1 ? df : tf.mul(df, ctx.invTau)];
      });
      dxs.push(dx as tf.Tensor2D);
      dfs.push(df as tf.Tensor2D);
    }
    tf.dispose([fb, xg]);
    return [joinRows(dxs), joinRows(dfs)];
  };

  const backwardSoftmax = (
    g: tf.Tensor2D,
    xIn: tf.Tensor2D,
    fIn: tf.Tensor2D,
    bIn: tf.Tensor1D | null,
    y: tf.Tensor2D,
    lse: tf.Tensor1D,
  ): tf.Tensor[] => {
    const d = xIn.shape[1];

    // the right operands, made once, with the rank-one terms as extra
    // columns: [F, β] for W, [F, 1, −lse] (or [F, −lse]) for the
    // transposed logits, [X, 1] and [G, c]; c_i = G_i · Y_i
    const fb = logitOperand(ctx, fIn, bIn);
    const c = tf.sum(tf.mul(g, y), 1);
    const negLse = tf.neg(lse);
    const negC = tf.neg(c);
    const fOnesLse = bIn === null ? null : withColumns(fIn, [1, negLse]);
    const xOnes = withColumns(xIn, [1]);
    const gc = withColumns(g, [c]);

    const dxs: tf.Tensor2D[] = [];
    const dfs: tf.Tensor2D[] = [];
    const dbs: tf.Tensor1D[] = [];
    for (const [r0, r1] of blocks) {
      const b = r1 - r0;
      const parts = tf.tidy(() => {
        // W_J: the forward's row softmax, recomputed (and its logits L_J
        // without a bias)
        const { w, logits } = blockWeights(
          ctx,
          fIn,
          fb,
          r0,
          r1,
          false,
          bIn === null,
        );

        // (W[:, J])ᵀ = exp(L') with L' = (F_J / τ) Fᵀ + β_J 1ᵀ − 1 lseᵀ,
        // as s ⊙ σ 1ᵀ: s = softmax(L') by rows, σ_j = Σ_i exp(L'_ji) =
        // exp(max_i L'_ji) / max_i s_ji, where max_i L'_ji <= 0 (WASM's
        // softmax is vectorised, its exp is not). Without a bias,
        // L' = L_J − 1 lseᵀ is one pass over the logits; with one, it is
        // one product against [F, 1, −lse] (L_J + β_J 1ᵀ − 1 (β + lse)ᵀ
        // would lose L_J wherever β_i = −∞).
        let lt: tf.Tensor2D;
        if (logits !== null) {
          lt = consume(logits, (t) => tf.sub(t, lse)) as tf.Tensor2D;
        } else {
          const fj = scaledRows(ctx, fIn, r0, r1);
          const biasJ = tf.slice(bIn as tf.Tensor1D, [r0], [b]);
          lt = rowProducts(
            withColumns(fj, [biasJ, 1]),
            fOnesLse as tf.Tensor2D,
          );
          if (ctx.excludeSelf) lt = maskDiagonal(lt, r0, r1, MASKED_LOGIT);
        }
        const ltMax = tf.max(lt, 1);
        const s = consume(lt, (t) => tf.softmax(t)) as tf.Tensor2D;
        const sigma = tf.reshape(tf.div(tf.exp(ltMax), tf.max(s, 1)), [b, 1]);

        // dX_J = (W[:, J])ᵀ G = σ ⊙ (s G)
        const dx = tf.mul(denseMatMul(s, g), sigma);

        // dL_J = W_J ⊙ (G_J Xᵀ − c_J 1ᵀ)
        const gj = tf.slice(g, [r0, 0], [b, d]) as tf.Tensor2D;
        const negCJ = tf.slice(negC, [r0], [b]);
        const dl = consume(w, (wj) =>
          consume(rowProducts(withColumns(gj, [negCJ]), xOnes), (t) =>
            tf.mul(wj, t),
          ),
        );

        // (dL[:, J])ᵀ = s ⊙ (σ ⊙ (X_J Gᵀ − 1 cᵀ)), the σ folded into the
        // product: [σ X_J, −σ] [G, c]ᵀ
        const xj = tf.mul(tf.slice(xIn, [r0, 0], [b, d]), sigma) as tf.Tensor2D;
        const dlt = consume(s, (sj) =>
          consume(rowProducts(withColumns(xj, [tf.neg(sigma)]), gc), (t) =>
            tf.mul(sj, t),
          ),
        );
        const db = bIn === null ? null : tf.sum(dlt, 1);
        const both = consume(dl, (t) => tf.add(t, dlt)) as tf.Tensor2D;
        dlt.dispose();
        let df = consume(both, (t) => denseMatMul(t as tf.Tensor2D, fIn));
        if (ctx.invTau !== 1) df = tf.mul(df, ctx.invTau);
        report("backward", r0, r1);
        return db === null ? [dx, df] : [dx, df, db];
      });
      dxs.push(parts[0] as tf.Tensor2D);
      dfs.push(parts[1] as tf.Tensor2D);
      if (parts[2] !== undefined) dbs.push(parts[2] as tf.Tensor1D);
    }
    tf.dispose([fb, c, negLse, negC, xOnes, gc]);
    if (fOnesLse !== null) fOnesLse.dispose();
    const grads: tf.Tensor[] = [joinRows(dxs), joinRows(dfs)];
    if (bIn !== null) grads.push(joinRows(dbs));
    return grads;
  };

  // NOTE: x and f may be the same tensor (the uniformity update W F): the
  // tape then adds the two gradients, which tf.customGrad supports.
  const inputs = bias === null ? [x, f] : [x, f, bias];
  const op = customOp((ins, save) => {
    const [xIn, fIn, bIn] = ins as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D?];
    const outs = tf.tidy(() => forward(xIn, fIn, finiteBias(bIn ?? null)));
    save([...ins, ...outs]);
    return {
      value: outs[0],
      gradFunc: (dy, saved) => {
        const [xs, fs] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor2D;
        if (ctx.kind === "dot") return backwardDot(g, xs, fs);
        const bs = ins.length === 3 ? (saved[2] as tf.Tensor1D) : null;
        const [ys, ls] = saved.slice(ins.length) as [tf.Tensor2D, tf.Tensor1D];
        return tf.tidy(() =>
          backwardSoftmax(g, xs, fs, finiteBias(bs), ys, ls),
        );
      },
    };
  });
  return op(inputs) as tf.Tensor2D;
}

/**
 * The differentiable b × N weight block of rows `[r0, r1)`. Its custom
 * gradient uses plain products against explicit transposes only:
 * `dF = pad_I(dL F / τ) + dLᵀ F_I / τ` and `dβ = Σ_i dL[i, :]`, where dL
 * is dW through the softmax Jacobian, `W ⊙ (dW − rowsum(dW ⊙ W))`, or dW
 * (0 at excluded pairs) for dot. Memory O(b × N + N × k).
 */
function weightsBlockDiff(
  ctx: BlockContext,
  f: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  r0: number,
  r1: number,
): tf.Tensor2D {
  const n = ctx.numNodes;
  const b = r1 - r0;

  const backward = (dw: tf.Tensor2D, fIn: tf.Tensor2D, w: tf.Tensor2D) =>
    tf.tidy(() => {
      let dl: tf.Tensor2D;
      if (ctx.kind === "softmax") {
        const rowDot = tf.sum(tf.mul(dw, w), 1, true);
        dl = tf.mul(w, tf.sub(dw, rowDot));
      } else {
        dl = ctx.excludeSelf ? maskDiagonal(dw.clone(), r0, r1, 0) : dw;
      }
      const fi = tf.slice(fIn, [r0, 0], [b, fIn.shape[1]]);
      const rows = tf.pad(denseMatMul(dl, fIn), [
        [r0, n - r1],
        [0, 0],
      ]);
      const cols = denseMatMul(dl, fi, { transposeA: true });
      let df = tf.add(rows, cols);
      if (ctx.invTau !== 1) df = tf.mul(df, ctx.invTau);
      return ctx.kind === "softmax" ? [df, tf.sum(dl, 0)] : [df];
    });

  const inputs = bias === null ? [f] : [f, bias];
  const op = customOp((ins, save) => {
    const [fIn, bIn] = ins as [tf.Tensor2D, tf.Tensor1D?];
    const w = tf.tidy(() => {
      const fb = logitOperand(ctx, fIn, finiteBias(bIn ?? null));
      return blockWeights(ctx, fIn, fb, r0, r1).w;
    });
    save([fIn, w]);
    return {
      value: w,
      gradFunc: (dy, saved) =>
        backward(
          dy as tf.Tensor2D,
          saved[0] as tf.Tensor2D,
          saved[1] as tf.Tensor2D,
        ).slice(0, ins.length),
    };
  });
  return op(inputs) as tf.Tensor2D;
}

/**
 * The entries of a b × N block that are not on its diagonal (r, r0 + r),
 * in row-major order: a differentiable b (N − 1) vector. Uses slices and
 * reshapes only (their gradients are pads), not gather, whose gradient
 * the WASM backend lacks.
 */
function offDiagonal(w: tf.Tensor2D, r0: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [b, n] = w.shape;
    const flat = tf.reshape(w, [-1]) as tf.Tensor1D;

    // diagonal entry r sits at r (N + 1) + r0: between two of them lie
    // exactly N entries, so the middle part reshapes to (b − 1) × (N + 1)
    const first = r0;
    const last = (b - 1) * (n + 1) + r0;
    const pieces: tf.Tensor1D[] = [];
    if (first > 0) pieces.push(tf.slice(flat, [0], [first]));
    if (b > 1) {
      const mid = tf.slice(flat, [first + 1], [(b - 1) * (n + 1)]);
      const rows = tf.slice(
        tf.reshape(mid, [b - 1, n + 1]),
        [0, 0],
        [b - 1, n],
      );
      pieces.push(tf.reshape(rows, [-1]) as tf.Tensor1D);
    }
    if (last + 1 < b * n) {
      pieces.push(tf.slice(flat, [last + 1], [b * n - last - 1]));
    }
    return pieces.length === 1 ? pieces[0] : tf.concat(pieces, 0);
  });
}

/**
 * The complete bipartite CSR of rows `[r0, r1)` against all N sources,
 * without the pairs (i, i) when `excludeSelf`; sources ascend in each row.
 */
function blockCSR(
  r0: number,
  r1: number,
  numNodes: number,
  excludeSelf: boolean,
): BipartiteCSR {
  const b = r1 - r0;
  const perRow = excludeSelf ? numNodes - 1 : numNodes;
  const rowPtr = new Int32Array(b + 1);
  const colIdx = new Int32Array(b * perRow);
  let e = 0;
  for (let r = 0; r < b; r++) {
    rowPtr[r] = e;
    const self = r0 + r;
    for (let j = 0; j < numNodes; j++) {
      if (excludeSelf && j === self) continue;
      colIdx[e++] = j;
    }
  }
  rowPtr[b] = e;
  return { rowPtr, colIdx, weights: null, numSrc: numNodes, numDst: b };
}

/** Automatic block rows: b × N × width ≤ {@link BLOCK_FLOATS}, b ≥ 1. */
function autoBlockSize(numNodes: number, width: number): number {
  const rows = BLOCK_FLOATS / (numNodes * Math.max(1, width));
  return Math.max(1, Math.floor(rows));
}

// ---------------------------------------------------------------------------
// the graph
// ---------------------------------------------------------------------------

/**
 * A dense graph over N nodes whose weights are computed from features
 * (see the top of this file for the equations); made by
 * {@link affinityGraph}. It holds `features` (and a tensor `logBias`) by
 * reference: the caller keeps ownership and must not dispose them while
 * the graph is in use. It allocates no tensor of its own, so it has
 * nothing to dispose.
 */
export class AffinityGraph implements AffinityGraphLike {
  /** Tag by which `propagate` recognises an affinity graph. */
  readonly kind = "affinity" as const;
  /** Number of nodes N. */
  readonly numNodes: number;
  /** The N × k features F that define the weights. */
  readonly features: tf.Tensor2D;
  /** The options, defaults filled in. */
  readonly options: ResolvedAffinityOptions;

  /** Use {@link affinityGraph}, which checks its arguments. */
  constructor(features: tf.Tensor2D, options: ResolvedAffinityOptions) {
    this.features = features;
    this.numNodes = features.shape[0];
    this.options = options;
  }

  /** The constants shared by the block kernels. */
  #context(): BlockContext {
    return {
      kind: this.options.kind,
      invTau: 1 / this.options.temperature,
      excludeSelf: this.options.excludeSelf,
      numNodes: this.numNodes,
    };
  }

  /** Forwards finished blocks to `options.onBlock`, if any. */
  #reporter(): BlockReporter {
    const onBlock = this.options.onBlock;
    const numNodes = this.numNodes;
    return (phase, rowStart, rowEnd) =>
      onBlock?.({ phase, rowStart, rowEnd, numNodes });
  }

  /**
   * Run `fn` with the logit bias as a tensor (or null). A `Float32Array`
   * bias becomes a tensor that lives for the call only.
   */
  #withBias<T>(fn: (bias: tf.Tensor1D | null) => T): T {
    const given = this.options.logBias;
    if (given === null || given instanceof tf.Tensor) {
      return fn(given as tf.Tensor1D | null);
    }
    const bias = tf.tensor1d(given, "float32");
    try {
      return fn(bias);
    } finally {
      bias.dispose();
    }
  }

  /**
   * Propagate `x` ([N, d], float32) over the graph, as `propagate(graph,
   * x, options)` does for a sparse graph (it hands affinity graphs over to
   * this method):
   *
   * - default message `w_ij · x_j` with `sum` (the default): `out = W X`;
   *   with `mean`: `W X / n`, n = N (N − 1 with `excludeSelf`). Both run
   *   the fused blockwise kernel, whose gradient is blockwise too, with
   *   respect to x, the features and a tensor `logBias` (x may be the
   *   features tensor itself, as in the uniformity update `(F Fᵀ) F`).
   *   Inside an aggregator list, sum and mean still take this path.
   * - any other message or aggregator: each row block becomes a complete
   *   bipartite CSR (its rows against all N sources, without the pairs
   *   (i, i) under `excludeSelf`) with the block's weights as
   *   differentiable `options.weights`, run by `propagateCSR`.
   * - `options.update(aggregated, x)` is applied once, to all N rows.
   *
   * Returns `[N, d']`. Raises `ShapeError` for x not `[N, d]` float32 and
   * `ConfigError` when `options.weights` is given (an affinity graph
   * computes its weights) or for a bad aggregator.
   */
  propagate(x: tf.Tensor2D, options: PropagateOptions = {}): tf.Tensor2D {
    const fn = "AffinityGraph.propagate";
    const n = this.numNodes;
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[0] !== n) {
      throw new ShapeError(
        `${fn}: x must be a tensor of shape [${n}, d], got ` +
          (x instanceof tf.Tensor ? `shape [${x.shape.join(", ")}]` : typeof x),
      );
    }
    if (x.dtype !== "float32") {
      throw new ShapeError(`${fn}: x must be float32, got ${x.dtype}`);
    }
    if (options.weights !== undefined && options.weights !== null) {
      throw new ConfigError(
        `${fn}: options.weights must not be given, an affinity graph ` +
          "computes its weights from its features",
      );
    }
    if (options.update !== undefined && typeof options.update !== "function") {
      throw new ConfigError(
        `${fn}: update must be a function, got ${typeof options.update}`,
      );
    }
    const aggregator = resolveAggregator(options.aggregate ?? "sum", {
      caller: fn,
      allowLearnable: false,
    });
    return tf.tidy(() => {
      const aggregated = this.#withBias((bias) =>
        this.#aggregate(x, aggregator, options.message, bias),
      );
      return options.update === undefined
        ? aggregated
        : options.update(aggregated, x);
    });
  }

  /** One aggregator: fused for linear sum/mean, else through CSR blocks. */
  #aggregate(
    x: tf.Tensor2D,
    aggregator: Aggregator,
    message: MessageFn | undefined,
    bias: tf.Tensor1D | null,
  ): tf.Tensor2D {
    if (message === undefined) {
      const isSum = aggregator instanceof SumAggregator;
      if (isSum || aggregator instanceof MeanAggregator) {
        return this.#fused(x, isSum ? "sum" : "mean", bias);
      }
      if (aggregator instanceof MultiAggregator) {
        return aggregator.combineOutputs(
          aggregator.aggregators.map((a) =>
            this.#aggregate(x, a, message, bias),
          ),
        );
      }
    }
    return this.#general(x, aggregator, message, bias);
  }

  /** The fused `W X` (or `W X / n`). */
  #fused(
    x: tf.Tensor2D,
    mode: "sum" | "mean",
    bias: tf.Tensor1D | null,
  ): tf.Tensor2D {
    const n = this.numNodes;
    const count = this.options.excludeSelf ? n - 1 : n;
    if (mode === "mean" && count === 0) {
      throw new ConfigError(
        "AffinityGraph.propagate: mean with excludeSelf needs at least 2 " +
          "nodes, got 1",
      );
    }
    const blockSize = Math.min(
      n,
      this.options.blockSize ?? autoBlockSize(n, 1),
    );
    const sum = fusedPropagate(
      this.#context(),
      blockSize,
      this.#reporter(),
      x,
      this.features,
      bias,
    );
    return mode === "sum" ? sum : consume(sum, (t) => tf.div(t, count));
  }

  /**
   * Any message and aggregator: each row block I becomes the complete
   * bipartite CSR (rows I, all N sources) with its weights as a
   * differentiable tensor in CSR order, handed to `propagateCSR`.
   */
  #general(
    x: tf.Tensor2D,
    aggregator: Aggregator,
    message: MessageFn | undefined,
    bias: tf.Tensor1D | null,
  ): tf.Tensor2D {
    const n = this.numNodes;
    const d = x.shape[1];
    const blockSize = Math.min(
      n,
      this.options.blockSize ?? autoBlockSize(n, d),
    );
    const ctx = this.#context();
    const report = this.#reporter();

    // LIMITATION: under autodiff every block's weights and edge messages
    // (b × N × d floats per block) stay on the tape until the backward
    // pass, so training through a custom message or an aggregator other
    // than sum/mean holds memory that grows like N² × d; only the fused
    // sum/mean path recomputes blocks in its backward pass.
    const outs: tf.Tensor2D[] = [];
    for (const [r0, r1] of rowBlocks(n, blockSize)) {
      const out = tf.tidy(() => {
        const w = weightsBlockDiff(ctx, this.features, bias, r0, r1);
        const weights = ctx.excludeSelf
          ? offDiagonal(w, r0)
          : (tf.reshape(w, [-1]) as tf.Tensor1D);
        const csr = blockCSR(r0, r1, n, ctx.excludeSelf);
        const xDst = tf.slice(x, [r0, 0], [r1 - r0, d]);
        return propagateCSR(csr, x, xDst, {
          message,
          aggregate: aggregator,
          weights,
        });
      });
      report("forward", r0, r1);
      outs.push(out);
    }
    return joinRows(outs);
  }

  /**
   * The b × N weights of rows `[rowStart, rowEnd)` (excluded pairs are 0),
   * differentiable with respect to the features and a tensor `logBias`.
   * For tests and small uses: it allocates b × N floats.
   */
  weightsBlock(rowStart: number, rowEnd: number): tf.Tensor2D {
    const n = this.numNodes;
    if (
      !Number.isInteger(rowStart) ||
      !Number.isInteger(rowEnd) ||
      rowStart < 0 ||
      rowEnd > n ||
      rowStart >= rowEnd
    ) {
      throw new ConfigError(
        "AffinityGraph.weightsBlock: expected integers 0 <= rowStart < " +
          `rowEnd <= ${n}, got ${rowStart} and ${rowEnd}`,
      );
    }
    const ctx = this.#context();
    return this.#withBias((bias) =>
      weightsBlockDiff(ctx, this.features, bias, rowStart, rowEnd),
    );
  }

  /**
   * The whole N × N weight matrix, differentiable like
   * {@link AffinityGraph.weightsBlock}. Only for small graphs: a
   * `ConfigError` above N = 4096 (2²⁴ entries).
   */
  toDense(): tf.Tensor2D {
    if (this.numNodes > DENSE_MAX_NODES) {
      throw new ConfigError(
        `AffinityGraph.toDense: at most ${DENSE_MAX_NODES} nodes can be ` +
          `made dense, got ${this.numNodes}; use weightsBlock`,
      );
    }
    return this.weightsBlock(0, this.numNodes);
  }
}

/**
 * Build the affinity graph of `features` (float32 [N, k]); nothing is
 * computed until it is propagated over (see {@link AffinityGraph} and
 * {@link AffinityOptions} for the weights and options).
 *
 * Raises `ShapeError` for features that are not a non-empty float32
 * matrix and for a `logBias` whose length is not N; `ConfigError` for an
 * unknown kind, a temperature that is not finite and > 0, a block size
 * that is not an integer >= 1, a `logBias` with kind `dot`, NaN or +∞ in a
 * `Float32Array` bias, and a softmax with `excludeSelf` on one node (an
 * empty row).
 *
 * @example
 * // the uniformity update (F Fᵀ) F of the spectral contrastive loss
 * const u = propagate(affinityGraph(F), F);
 */
export function affinityGraph(
  features: tf.Tensor2D,
  options: AffinityOptions = {},
): AffinityGraph {
  const fn = "affinityGraph";
  if (!(features instanceof tf.Tensor) || features.rank !== 2) {
    throw new ShapeError(
      `${fn}: features must be a rank-2 tensor [N, k], got ` +
        (features instanceof tf.Tensor
          ? `shape [${(features as tf.Tensor).shape.join(", ")}]`
          : typeof features),
    );
  }
  const [n, k] = features.shape;
  if (n === 0 || k === 0) {
    throw new ShapeError(
      `${fn}: features must have at least one row and one column, got ` +
        `[${n}, ${k}]`,
    );
  }
  if (features.dtype !== "float32") {
    throw new ShapeError(
      `${fn}: features must be float32, got ${features.dtype}`,
    );
  }

  const kind = options.kind ?? "dot";
  if (kind !== "dot" && kind !== "softmax") {
    throw new ConfigError(
      `${fn}: kind must be 'dot' or 'softmax', got '${String(kind)}'`,
    );
  }
  const temperature = options.temperature ?? 1;
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new ConfigError(
      `${fn}: temperature must be a finite number > 0, got ${temperature}`,
    );
  }
  const blockSize = options.blockSize ?? null;
  if (blockSize !== null && (!Number.isInteger(blockSize) || blockSize < 1)) {
    throw new ConfigError(
      `${fn}: blockSize must be an integer >= 1, got ${blockSize}`,
    );
  }
  const excludeSelf = options.excludeSelf ?? false;
  if (kind === "softmax" && excludeSelf && n === 1) {
    throw new ConfigError(
      `${fn}: a softmax with excludeSelf needs at least 2 nodes, got 1`,
    );
  }

  const logBias = options.logBias ?? null;
  if (logBias !== null) checkLogBias(fn, logBias, kind, n);

  return new AffinityGraph(features, {
    kind,
    temperature,
    blockSize,
    excludeSelf,
    logBias,
    onBlock: options.onBlock ?? null,
  });
}

/** Check `logBias`: softmax only, length N, no NaN or +∞ in an array. */
function checkLogBias(
  fn: string,
  logBias: Float32Array | tf.Tensor1D,
  kind: AffinityKind,
  n: number,
): void {
  if (kind !== "softmax") {
    throw new ConfigError(
      `${fn}: logBias applies to kind 'softmax' only, got kind '${kind}'`,
    );
  }
  if (logBias instanceof tf.Tensor) {
    if (logBias.rank !== 1 || logBias.size !== n) {
      throw new ShapeError(
        `${fn}: logBias must have shape [${n}], got ` +
          `[${logBias.shape.join(", ")}]`,
      );
    }
    if (logBias.dtype !== "float32") {
      throw new ShapeError(
        `${fn}: logBias must be float32, got ${logBias.dtype}`,
      );
    }
    return;
  }
  if (!(logBias instanceof Float32Array) || logBias.length !== n) {
    throw new ShapeError(
      `${fn}: logBias must be a Float32Array or tensor of length ${n}, got ` +
        (logBias instanceof Float32Array
          ? `length ${logBias.length}`
          : typeof logBias),
    );
  }
  for (let j = 0; j < n; j++) {
    const v = logBias[j];
    if (Number.isNaN(v) || v === Number.POSITIVE_INFINITY) {
      throw new ConfigError(
        `${fn}: logBias must hold no NaN or +Infinity, got ${v} at ${j}`,
      );
    }
  }
}
