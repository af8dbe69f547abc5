/**
 * mpcl: graph neural networks and contrastive learning on one
 * message-passing operator. This module is the public API: the Graph
 * type with its builders, transforms, rewiring, generators and datasets;
 * `propagate` with its aggregators, affinity graphs, attention and
 * feature products; GNN layers, readouts, normalizations, the model
 * builder, optimizers and the supervised trainer; contrastive learning
 * as message passing (augmentation graphs and views, objectives as
 * alignment and uniformity updates, encoders, the gradient step, the
 * trainer, simulation); the spectral toolkit; evaluation (logistic probe,
 * kNN, clustering scores); figures; seeded randomness; backend
 * selection; typed errors.
 */

export {
  type BackendInfo,
  type BackendName,
  initBackend,
  tf,
} from "./backend.js";
export * from "./contrastive/index.js";
export * from "./errors.js";
export * from "./eval/index.js";
export * from "./graph/index.js";
export * from "./mp/index.js";
export * from "./nn/index.js";
export * from "./plot/index.js";
export * from "./random.js";
export * from "./report/document.js";
export * from "./report/write.js";
export * from "./spectral/index.js";
