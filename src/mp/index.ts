/**
 * Message passing: the `propagate` operator, its aggregators and the
 * differentiable segment primitives they are built from, and affinity
 * graphs (weights computed from features, processed in row blocks), and
 * the dense/sparse feature products and dropout of `linear.ts`.
 */

export * from "./affinity.js";
export * from "./aggregators.js";
export * from "./attention.js";
export * from "./linear.js";
export * from "./propagate.js";
export * from "./segment.js";
