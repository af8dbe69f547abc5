/**
 * The spectral toolkit: graph matrices as float64 operators and the
 * sparse symmetric eigensolver `eigsh`. (The metrics that test the
 * theory are re-exported here too as they land.)
 */

export {
  EigshConvergenceError,
  type EigshMethod,
  type EigshOptions,
  type EigshProgress,
  type EigshResult,
  eigsh,
  type Which,
} from "./eigsh.js";
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
