/** Evaluation: agreement scores between labelings, and a linear probe. */

export * from "./clustering.js";
export * from "./probe.js";
