/**
 * mpcl: graph neural networks and contrastive learning on one
 * message-passing operator. This module is the public API: the Graph
 * type with its builders, transforms, generators and datasets;
 * `propagate` with its aggregators and affinity graphs; contrastive
 * learning as message passing (augmentation graphs, losses, updates,
 * simulation); the spectral toolkit (eigensolvers and metrics);
 * clustering scores; figures (Vega-Lite to SVG and PNG); seeded
 * randomness; backend selection; typed errors.
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
export * from "./plot/index.js";
export * from "./random.js";
export * from "./spectral/index.js";
