/**
 * Evaluation: agreement scores between labelings, linear probes (closed
 * form and logistic), the kNN classifier and the protocol records.
 */

export * from "./clustering.js";
export * from "./knn.js";
export * from "./logistic.js";
export * from "./probe.js";
export * from "./protocol.js";
