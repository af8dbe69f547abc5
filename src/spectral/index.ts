/**
 * The spectral toolkit: graph matrices as float64 operators, the sparse
 * symmetric eigensolver `eigsh` and the dense one, and the metrics that
 * test the theory (eigengaps, subspace distances, singular values and
 * ranks, Dirichlet energy, alignment and uniformity, collapse, connected
 * components and communities).
 */

export * from "./alignment.js";
export * from "./collapse.js";
export * from "./communities.js";
export * from "./components.js";
export * from "./dense.js";
export * from "./eigengap.js";

export {
  EigshConvergenceError,
  type EigshMethod,
  type EigshOptions,
  type EigshProgress,
  type EigshResult,
  eigsh,
  type Which,
} from "./eigsh.js";
export * from "./embedding.js";
export * from "./energy.js";
export type { DenseMatrix, FeatureMatrix } from "./matrix.js";
export {
  adjacencyOperator,
  csrMatmul64,
  DenseOperator,
  GRAPH_OPERATOR_KINDS,
  type GraphOperatorKind,
  type GraphOperatorOptions,
  graphOperator,
  isSimilarToSymmetric,
  type LinearOperator,
  laplacianOperator,
  normalizedAdjacencyOperator,
  operatorToDense,
  RandomWalkLaplacian,
  rwLaplacianOperator,
  type SimilarToSymmetric,
  SparseOperator,
  type SparseOperatorParts,
  symLaplacianOperator,
} from "./operators.js";
export * from "./rank.js";
export * from "./subspace.js";
