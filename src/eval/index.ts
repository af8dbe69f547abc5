/** Evaluation: agreement scores between labelings. */

export * from "./clustering.js";
