/**
 * GraphSAGE convolution, from Hamilton, Ying & Leskovec (2017), "Inductive
 * Representation Learning on Large Graphs", in the form of PyTorch
 * Geometric's `SAGEConv`: a root weight for the node's own features and a
 * neighbour weight for the aggregate of its neighbours' features, with any
 * aggregator of `propagate` (mean, max, sum, std, softmax, power mean and
 * lists of them).
 */

import { tf } from "../backend.js";
import { ConfigError } from "../errors.js";
import {
  type AggregateSpec,
  type Aggregator,
  MeanAggregator,
  outputDimOf,
  resolveAggregator,
  SumAggregator,
} from "../mp/aggregators.js";
import { denseFeatures, type NodeFeatures } from "../mp/linear.js";
import { propagate } from "../mp/propagate.js";
import { type RandomOptions, resolveRandom } from "../random.js";
import { checkInit, createVariable, denseInit, type InitName } from "./init.js";
import {
  checkDim,
  checkFlag,
  checkLayerInput,
  checkRate,
  inputDropout,
  product,
  unweightedView,
} from "./linear.js";
import type { ForwardContext, Layer, Parameter } from "./module.js";

/** Arguments of {@link SAGEConv}. */
export interface SAGEConvArgs extends RandomOptions {
  /** Width of the input features. */
  inputDim: number;
  /** Width of the output features. */
  units: number;
  /**
   * The neighbourhood aggregation, any `AggregateSpec` of `propagate`;
   * default `"mean"`. A learnable config (`{ name: "softmax", learnable:
   * true }`) creates its variable here: it is listed in `parameters()` and
   * freed by `dispose()`. An `Aggregator` object passed in is used as it
   * is: its variables are listed too, but its owner frees them.
   */
  aggregate?: AggregateSpec;
  /** Add the root term `x_i W_root`; default true. */
  rootWeight?: boolean;
  /** L2-normalize every output row; default false. */
  normalize?: boolean;
  /**
   * Project the neighbours' features first, `x_j ← relu(x_j W_p + b_p)`
   * with W_p `[inputDim, inputDim]`, as the pooling aggregator of the
   * paper; default false.
   */
  project?: boolean;
  /** Add a learnable bias b; default true. */
  bias?: boolean;
  /**
   * Multiply the messages by the graph's edge weights; default false:
   * GraphSAGE (and PyG's `SAGEConv`) ignores them.
   */
  edgeWeights?: boolean;
  /**
   * Initialisation of every weight: `"glorot"` (default: Glorot uniform
   * and zero biases, as the paper's TensorFlow code) or `"kaiming"`
   * (PyTorch's `nn.Linear` default, as PyG).
   */
  init?: InitName;
  /** Dropout rate on the input in training mode; default 0. */
  inputDropout?: number;
}

/**
 * GraphSAGE convolution:
 *
 *     h_i' = W_root x_i + W_neigh · AGG_{j ∈ N(i)} x_j + b
 *
 * (in row form `x_i W_root + AGG(x_j) W_neigh + b`), optionally
 * L2-normalized, `h_i' / max(‖h_i'‖, 1e-12)`. N(i) are the sources of
 * the edges into i (duplicates counted, self-loops included as
 * neighbours); a node without incoming edges aggregates to 0. With
 * `project`, the neighbours' features are `relu(x_j W_p + b_p)` (the
 * root term keeps `x_i`).
 *
 * For a single `sum` or `mean` aggregator the product comes first,
 * `AGG(x W_neigh)`, which is equal, cheaper when units < inputDim, and
 * accepts sparse input; any other aggregator aggregates the (densified)
 * features and then multiplies.
 *
 * Input `[N, inputDim]` (dense or sparse), output `[N, units]`.
 * Parameters: `project.weight`, `project.bias` (with project),
 * `neighbor.weight` `[d_agg, units]` with `d_agg` the aggregator's output
 * width for inputDim, `root.weight` `[inputDim, units]` (with
 * rootWeight), `bias`, then the aggregator's variables
 * (`aggregate.temperature`, `aggregate.p`, `aggregate.<index>.…` in a
 * list).
 *
 * LIMITATION: with any aggregator other than a single sum or mean, sparse
 * input is densified to `[N, inputDim]` before aggregation (costly for
 * wide bag-of-words features); use `project` or a dense input there.
 */
export class SAGEConv implements Layer {
  readonly name: string;
  readonly inputDim: number;
  readonly units: number;
  readonly normalize: boolean;
  readonly edgeWeights: boolean;
  readonly inputDropout: number;
  /** The resolved aggregator. */
  readonly aggregator: Aggregator;
  /** W_neigh, `[d_agg, units]`. */
  readonly neighborWeight: tf.Variable;
  /** W_root, `[inputDim, units]`, or null without root weight. */
  readonly rootWeight: tf.Variable | null;
  /** b, `[units]`, or null. */
  readonly bias: tf.Variable | null;
  /** W_p `[inputDim, inputDim]` and b_p, or null without projection. */
  readonly projection: { weight: tf.Variable; bias: tf.Variable } | null;
  readonly #linearOrder: boolean;
  readonly #ownedVariables: readonly tf.Variable[];
  readonly #aggregateParameters: Parameter[];

  constructor(args: SAGEConvArgs) {
    const cls = "SAGEConv";
    this.inputDim = checkDim(cls, "inputDim", args.inputDim);
    this.units = checkDim(cls, "units", args.units);
    this.normalize = checkFlag(cls, "normalize", args.normalize, false);
    this.edgeWeights = checkFlag(cls, "edgeWeights", args.edgeWeights, false);
    this.inputDropout = checkRate(cls, "inputDropout", args.inputDropout);
    const root = checkFlag(cls, "rootWeight", args.rootWeight, true);
    const project = checkFlag(cls, "project", args.project, false);
    const bias = checkFlag(cls, "bias", args.bias, true);
    const init = checkInit(cls, args.init ?? "glorot");

    // the aggregator, and which of its variables this layer created
    const spec = args.aggregate ?? "mean";
    this.aggregator = resolveAggregator(spec, { caller: cls });
    const foreign = new Set(foreignVariables(spec));
    this.#ownedVariables = (this.aggregator.variables ?? []).filter(
      (v) => !foreign.has(v),
    );
    this.#aggregateParameters = aggregatorParameters(this.aggregator);
    this.#linearOrder =
      this.aggregator instanceof SumAggregator ||
      this.aggregator instanceof MeanAggregator;
    const aggregatedDim = outputDimOf(this.aggregator, this.inputDim);
    const aggregatorName = this.aggregator.name;
    this.name = `SAGEConv(${this.inputDim}→${this.units}, ${aggregatorName})`;

    // draws in a fixed order: projection, neighbour weight and bias, root
    const random = resolveRandom(args);
    const d = this.inputDim;
    if (project) {
      const p = denseInit(init, d, d, true, random);
      this.projection = {
        weight: createVariable(p.weight, [d, d]),
        bias: createVariable(p.bias as Float32Array, [d]),
      };
    } else {
      this.projection = null;
    }
    const neighbor = denseInit(init, aggregatedDim, this.units, bias, random);
    this.neighborWeight = createVariable(neighbor.weight, [
      aggregatedDim,
      this.units,
    ]);
    this.rootWeight = root
      ? createVariable(denseInit(init, d, this.units, false, random).weight, [
          d,
          this.units,
        ])
      : null;
    this.bias =
      neighbor.bias === null
        ? null
        : createVariable(neighbor.bias, [this.units]);
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    checkLayerInput(this.name, x, this.inputDim, context.graph);
    const graph = this.edgeWeights
      ? context.graph
      : unweightedView(context.graph);
    return tf.tidy(() => {
      const input = inputDropout(x, this.inputDropout, context);

      // first the neighbours' features (projected when asked)
      let neighbors: NodeFeatures = input;
      if (this.projection !== null) {
        const { weight, bias } = this.projection;
        neighbors = tf.relu(
          product(input, weight as tf.Tensor2D).add(bias),
        ) as tf.Tensor2D;
      }

      // then their aggregate times W_neigh, in the cheaper order if linear
      const w = this.neighborWeight as tf.Tensor2D;
      const aggregate = this.aggregator;
      let out = this.#linearOrder
        ? propagate(graph, product(neighbors, w), { aggregate })
        : product(propagate(graph, denseFeatures(neighbors), { aggregate }), w);

      // then the root term and the bias
      if (this.rootWeight !== null) {
        out = out.add(product(input, this.rootWeight as tf.Tensor2D));
      }
      if (this.bias !== null) out = out.add(this.bias);
      return this.normalize ? l2NormalizeRows(out) : out;
    });
  }

  parameters(): Parameter[] {
    const out: Parameter[] = [];
    if (this.projection !== null) {
      out.push({ name: "project.weight", variable: this.projection.weight });
      out.push({ name: "project.bias", variable: this.projection.bias });
    }
    out.push({ name: "neighbor.weight", variable: this.neighborWeight });
    if (this.rootWeight !== null) {
      out.push({ name: "root.weight", variable: this.rootWeight });
    }
    if (this.bias !== null) out.push({ name: "bias", variable: this.bias });
    return out.concat(this.#aggregateParameters);
  }

  dispose(): void {
    this.neighborWeight.dispose();
    this.rootWeight?.dispose();
    this.bias?.dispose();
    this.projection?.weight.dispose();
    this.projection?.bias.dispose();
    for (const v of this.#ownedVariables) v.dispose();
  }
}

/**
 * `x_i / max(‖x_i‖₂, 1e-12)` row by row (PyTorch's `F.normalize`). The
 * norm is `sqrt(max(Σ x², 1e-24))`, so a zero row stays zero with a
 * finite gradient.
 */
function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  const squares = x.square().sum(1, true);
  return x.div(tf.maximum(squares, 1e-24).sqrt());
}

/** Variables of the Aggregator objects inside a spec (not created here). */
function foreignVariables(spec: AggregateSpec): tf.Variable[] {
  if (Array.isArray(spec)) return spec.flatMap(foreignVariables);
  if (typeof spec !== "object" || spec === null) return [];
  if ("aggregate" in spec && typeof spec.aggregate === "function") {
    return [...((spec as Aggregator).variables ?? [])];
  }
  if ("list" in spec && Array.isArray(spec.list)) {
    return spec.list.flatMap(foreignVariables);
  }
  return [];
}

/**
 * The trainable variables of an aggregator as named parameters:
 * `aggregate.temperature` (softmax), `aggregate.p` (power mean), with the
 * index in a list, `aggregate.1.temperature`; other variables are named
 * `aggregate.<k>`.
 */
function aggregatorParameters(aggregator: Aggregator): Parameter[] {
  const out: Parameter[] = [];
  const visit = (a: Aggregator, prefix: string): void => {
    const list = (a as { aggregators?: readonly Aggregator[] }).aggregators;
    if (Array.isArray(list)) {
      list.forEach((inner, i) => {
        visit(inner, `${prefix}.${i}`);
      });
      return;
    }
    const variables = a.variables ?? [];
    variables.forEach((variable, k) => {
      const label =
        variables.length === 1 && a.name === "softmax"
          ? "temperature"
          : variables.length === 1 && a.name === "powermean"
            ? "p"
            : String(k);
      out.push({ name: `${prefix}.${label}`, variable });
    });
  };
  visit(aggregator, "aggregate");
  const names = new Set(out.map((p) => p.name));
  if (names.size !== out.length) {
    throw new ConfigError(
      `SAGEConv: aggregator variables need distinct names, got ` +
        out.map((p) => p.name).join(", "),
    );
  }
  return out;
}
