/**
 * Message passing: the `propagate` operator, its aggregators and the
 * differentiable segment primitives they are built from.
 */

export * from "./aggregators.js";
export * from "./propagate.js";
export * from "./segment.js";
