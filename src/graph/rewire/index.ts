/**
 * Graph rewiring: pure, seeded `Graph → Graph` functions that drop, add
 * or reweight edges (DropEdge, kNN, diffusion, curvature, communities).
 */

export * from "./community.js";
export * from "./diffusion.js";
export * from "./dropEdge.js";
export * from "./knn.js";
export * from "./sdrf.js";
export * from "./selfLoops.js";
