/**
 * Self-loop rewiring: give every node exactly one self-loop, or one where
 * it has none, as in the renormalization trick Â = A + I of Kipf &
 * Welling, "Semi-Supervised Classification with Graph Convolutional
 * Networks" (ICLR 2017). A thin layer over `transforms.ts`.
 */

import { GraphError } from "../../errors.js";
import type { Graph } from "../graph.js";
import { addSelfLoops, removeSelfLoops } from "../transforms.js";

/** Options of {@link withSelfLoops}. */
export interface WithSelfLoopsOptions {
  /** Weight of every new loop (default 1), finite and non-negative. */
  weight?: number;
  /**
   * Replace the loops the graph already has (default false): with true,
   * every node ends with exactly one loop of weight `weight`; with false,
   * existing loops stay as they are and only nodes without one get a
   * new loop.
   */
  replace?: boolean;
}

/**
 * The graph with self-loops: `A − diag(A) + w I` with `replace`, else
 * `A + w I_missing` (I_missing the identity on the nodes without a loop).
 * Other edges, their weights and their order are unchanged; the result
 * is weighted when the input is or `weight` is not 1.
 *
 * @throws GraphError for a weight that is negative or not finite.
 */
export function withSelfLoops(
  graph: Graph,
  options: WithSelfLoopsOptions = {},
): Graph {
  const weight = options.weight ?? 1;
  if (typeof weight !== "number" || !(weight >= 0 && weight < Infinity)) {
    throw new GraphError(
      `withSelfLoops: weight must be finite and >= 0, got ${weight}`,
    );
  }
  if (options.replace ?? false) {
    return addSelfLoops(removeSelfLoops(graph), { weight });
  }
  return addSelfLoops(graph, { weight, onlyMissing: true });
}
