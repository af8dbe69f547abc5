/**
 * The spectral summary of a labelled graph for the report (Cora in
 * `mpcl report`): connected components, the multiplicity of the
 * eigenvalue 1 of the normalized adjacency Ā = D^-1/2 A D^-1/2 (which
 * equals the number of components, F. Chung, "Spectral Graph Theory",
 * 1997, Lemma 1.7), the top eigenvalues of Ā on the largest component
 * and their eigengaps (U. von Luxburg, "A tutorial on spectral
 * clustering", 2007, §8.3), and Louvain communities against the labels
 * (NMI, ARI). Returns data and a figure spec; nothing prints.
 */

import { ConfigError, ShapeError } from "../../src/errors.js";
import {
  adjustedRandIndex,
  normalizedMutualInfo,
} from "../../src/eval/clustering.js";
import type { Graph } from "../../src/graph/graph.js";
import { inducedSubgraph } from "../../src/graph/transforms.js";
import { lineChart } from "../../src/plot/line.js";
import { panels } from "../../src/plot/panels.js";
import type { VegaLiteSpec } from "../../src/plot/render.js";
import { louvain } from "../../src/spectral/communities.js";
import { connectedComponents } from "../../src/spectral/components.js";
import { eigengaps } from "../../src/spectral/eigengap.js";
import { eigsh } from "../../src/spectral/eigsh.js";
import { normalizedAdjacencyOperator } from "../../src/spectral/operators.js";

/**
 * An eigenvalue of Ā counts as 1 in the multiplicity check when it is
 * at least `1 − UNIT_EIGENVALUE_TOLERANCE` (eigsh converges to 1e-8
 * relative; the next eigenvalue of Cora is 0.9952).
 */
export const UNIT_EIGENVALUE_TOLERANCE = 1e-6;

/** Options of {@link graphSpectrumSummary}. */
export interface GraphSpectrumOptions {
  /** Eigenvalues of Ā computed on the largest component (default 20). */
  k?: number;
  /**
   * Also solve the whole graph for c + 2 eigenvalues (c components) and
   * count those equal to 1 (default true; on Cora, c = 78, about 6 s of
   * CPU).
   */
  multiplicity?: boolean;
  /** Seed of the eigensolver's start vectors and of Louvain (default 0). */
  seed?: number;
  /** Relative residual tolerance of the eigensolver (default 1e-8). */
  tol?: number;
}

/** The multiplicity check: predicted c, measured count of λ = 1. */
export interface UnitMultiplicity {
  /** The number of connected components c. */
  predicted: number;
  /** Eigenvalues ≥ 1 − {@link UNIT_EIGENVALUE_TOLERANCE} among c + 2. */
  measured: number;
  /** The largest eigenvalue below 1 found (λ_{c+1}). */
  nextEigenvalue: number;
  /** Seconds of the solve. */
  seconds: number;
}

/** What {@link graphSpectrumSummary} returns. */
export interface GraphSpectrumSummary {
  /** Nodes N of the whole graph. */
  numNodes: number;
  /** Stored (directed) edges; an undirected edge counts twice. */
  numEdges: number;
  /** Connected components c and the size of the largest. */
  components: { count: number; largest: number };
  /** The largest component's top eigenvalues of Ā and their gaps. */
  largestComponent: {
    numNodes: number;
    /** The k largest eigenvalues, descending. */
    eigenvalues: Float64Array;
    /** `gaps[i] = λ_{i+1} − λ_{i+2}` (1-based λ), length k − 1. */
    gaps: Float64Array;
    /** The 1-based k of the largest gap (the eigengap heuristic). */
    largestGapAt: number;
    /** The largest residual ‖Āv − λv‖ of the pairs. */
    maxResidual: number;
    /** Products with Ā the solver used. */
    matvecs: number;
    seconds: number;
  };
  /** The multiplicity check, or null when not asked for. */
  multiplicity: UnitMultiplicity | null;
  /** Louvain communities and their agreement with the labels. */
  communities: {
    count: number;
    modularity: number;
    /** NMI (arithmetic) between communities and labels, in [0, 1]. */
    nmi: number;
    /** Adjusted Rand index between communities and labels. */
    ari: number;
    seconds: number;
  };
}

/**
 * Summarise the spectrum of an undirected graph with node labels: its
 * components, the multiplicity of Ā's eigenvalue 1 against the number
 * of components, the k largest eigenvalues of Ā restricted to the
 * largest component with their eigengaps, and Louvain communities
 * compared with the labels (labels < 0 are ignored).
 *
 * @param graph an undirected graph (both directions stored), N nodes.
 * @param labels N class labels.
 * @param options `k` (default 20), `multiplicity` (default true), `seed`
 *   (default 0), `tol` (default 1e-8).
 * @throws ShapeError when `labels` does not have N entries; ConfigError
 *   when k is not an integer in [2, size of the largest component − 1];
 *   GraphError (from the operator) for a directed graph.
 */
export function graphSpectrumSummary(
  graph: Graph,
  labels: ArrayLike<number>,
  options: GraphSpectrumOptions = {},
): GraphSpectrumSummary {
  const fn = "graphSpectrumSummary";
  const n = graph.numNodes;
  if (labels.length !== n) {
    throw new ShapeError(
      `${fn}: expected ${n} labels (one per node), received ${labels.length}`,
    );
  }
  const k = options.k ?? 20;
  const seed = options.seed ?? 0;
  const tol = options.tol ?? 1e-8;

  // the components, and the largest one as a graph of its own
  const components = connectedComponents(graph);
  let largest = 0;
  for (let c = 1; c < components.count; c++) {
    if (components.sizes[c] > components.sizes[largest]) largest = c;
  }
  const size = components.sizes[largest];
  if (!Number.isInteger(k) || k < 2 || k >= size) {
    throw new ConfigError(
      `${fn}: k must be an integer in [2, ${size - 1}] (the largest ` +
        `component has ${size} nodes), got ${k}`,
    );
  }
  const nodes: number[] = [];
  for (let i = 0; i < n; i++) if (components.ids[i] === largest) nodes.push(i);
  const component = inducedSubgraph(graph, nodes).graph;

  // the top of Ā's spectrum on the largest component
  let start = performance.now();
  const top = eigsh(normalizedAdjacencyOperator(component), k, { seed, tol });
  const gaps = eigengaps(top.values);
  let largestGapAt = 1;
  for (let i = 1; i < gaps.length; i++) {
    if (gaps[i] > gaps[largestGapAt - 1]) largestGapAt = i + 1;
  }
  const largestComponent = {
    numNodes: size,
    eigenvalues: top.values,
    gaps,
    largestGapAt,
    maxResidual: Math.max(...top.residuals),
    matvecs: top.matvecs,
    seconds: (performance.now() - start) / 1000,
  };

  // eigenvalue 1 of the whole graph: one per component
  let multiplicity: UnitMultiplicity | null = null;
  if (options.multiplicity ?? true) {
    start = performance.now();
    const c = components.count;
    const whole = eigsh(
      normalizedAdjacencyOperator(graph),
      Math.min(c + 2, n - 1),
      { seed, tol },
    );
    let measured = 0;
    let nextEigenvalue = Number.NEGATIVE_INFINITY;
    for (const value of whole.values) {
      if (value >= 1 - UNIT_EIGENVALUE_TOLERANCE) measured++;
      else nextEigenvalue = Math.max(nextEigenvalue, value);
    }
    multiplicity = {
      predicted: c,
      measured,
      nextEigenvalue,
      seconds: (performance.now() - start) / 1000,
    };
  }

  // Louvain communities against the labels
  start = performance.now();
  const partition = louvain(graph, { seed });
  const communities = {
    count: partition.count,
    modularity: partition.modularity,
    nmi: normalizedMutualInfo(partition.ids, labels),
    ari: adjustedRandIndex(partition.ids, labels),
    seconds: (performance.now() - start) / 1000,
  };

  return {
    numNodes: n,
    numEdges: graph.numEdges,
    components: { count: components.count, largest: size },
    largestComponent,
    multiplicity,
    communities,
  };
}

/**
 * The figure of a summary, two panels: the top eigenvalues of Ā on the
 * largest component against their index, and the gap below each.
 */
export function graphSpectrumFigure(
  summary: GraphSpectrumSummary,
  name: string,
): VegaLiteSpec {
  const { eigenvalues, gaps, largestGapAt, numNodes } =
    summary.largestComponent;
  const index = Array.from(eigenvalues, (_, i) => i + 1);
  const values = lineChart({
    title: "top eigenvalues of Ā",
    x: { label: "index i", values: index },
    y: { label: "λ_i" },
    series: [{ name: "λ_i", values: eigenvalues }],
    width: 320,
    height: 220,
  });
  const gapChart = lineChart({
    title: "eigengaps",
    subtitle: `largest below λ_${largestGapAt}`,
    x: { label: "index i", values: index.slice(0, gaps.length) },
    y: { label: "λ_i − λ_(i+1)" },
    series: [{ name: "λ_i − λ_(i+1)", values: gaps }],
    width: 320,
    height: 220,
  });
  return panels([values, gapChart], {
    columns: 2,
    title: `${name}, largest component (${numNodes} of ${summary.numNodes} nodes)`,
  });
}
