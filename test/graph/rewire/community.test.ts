/**
 * Community rewiring by hand on two triangles joined by a bridge (given
 * communities and seeded Louvain), its invariants on seeded planted
 * partitions (symmetry, kept input edges, new edges only inside
 * communities, no self-loops, at most k new pairs per node, determinism),
 * the Louvain partition of planted blocks, withSelfLoops by hand, and
 * typed errors.
 */

import { describe, expect, it } from "vitest";
import { ConfigError, GraphError, ShapeError } from "../../../src/errors.js";
import { stochasticBlockModel } from "../../../src/graph/generators.js";
import { Graph } from "../../../src/graph/graph.js";
import {
  communityRewire,
  louvainCommunities,
} from "../../../src/graph/rewire/community.js";
import { withSelfLoops } from "../../../src/graph/rewire/selfLoops.js";
import { isSymmetric } from "../../../src/graph/transforms.js";

/** The directed edges "src>dst:w" of a graph, sorted. */
function edgeSet(g: Graph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.numEdges; e++) {
    out.push(`${g.src[e]}>${g.dst[e]}:${g.weight(e)}`);
  }
  return out.sort();
}

/** An undirected graph from a list of pairs. */
function undirected(n: number, pairs: Array<[number, number]>): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  for (const [a, b] of pairs) {
    src.push(a, b);
    dst.push(b, a);
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

// two triangles 0-1-2 and 3-4-5 joined by the bridge 2 — 3
const bridged = undirected(6, [
  [0, 1],
  [1, 2],
  [0, 2],
  [3, 4],
  [4, 5],
  [3, 5],
  [2, 3],
]);

/** A seeded planted partition: 4 blocks of 15 nodes. */
function planted(seed: number): { graph: Graph; blocks: Int32Array } {
  const sbm = stochasticBlockModel(
    { sizes: [15, 15, 15, 15], pIn: 0.5, pOut: 0.03 },
    { seed },
  );
  return { graph: sbm.graph, blocks: sbm.blocks };
}

describe("louvainCommunities", () => {
  it("splits two bridged triangles into the triangles", () => {
    const ids = louvainCommunities(bridged, { seed: 1 });
    expect(Array.from(ids)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it("recovers well separated planted blocks, the same for a seed", () => {
    const { graph, blocks } = planted(3);
    const ids = louvainCommunities(graph, { seed: 7 });
    expect(Array.from(louvainCommunities(graph, { seed: 7 }))).toEqual(
      Array.from(ids),
    );
    // the same partition up to renaming: ids agree iff blocks agree
    let disagreements = 0;
    for (let i = 0; i < 60; i++) {
      for (let j = i + 1; j < 60; j++) {
        if ((ids[i] === ids[j]) !== (blocks[i] === blocks[j])) {
          disagreements++;
        }
      }
    }
    expect(disagreements).toBe(0);
  });

  it("leaves every node alone in a graph without edges", () => {
    expect(Array.from(louvainCommunities(Graph.empty(3)))).toEqual([0, 1, 2]);
  });

  it("raises ConfigError for a bad resolution", () => {
    expect(() => louvainCommunities(bridged, { resolution: 0 })).toThrow(
      ConfigError,
    );
  });
});

describe("communityRewire", () => {
  it("drops the bridge between two triangles", () => {
    const out = communityRewire(bridged, {
      mode: "drop-between",
      communities: [0, 0, 0, 1, 1, 1],
    });
    expect(edgeSet(out)).toEqual(
      edgeSet(bridged).filter((s) => s !== "2>3:1" && s !== "3>2:1"),
    );
    // the same with Louvain's communities
    const auto = communityRewire(bridged, { mode: "drop-between", seed: 1 });
    expect(edgeSet(auto)).toEqual(edgeSet(out));
  });

  it("completes a community that has one missing pair", () => {
    // community {0, 1, 2, 3} on the path 0 - 1 - 2 - 3 plus 0 — 2, 1 — 3:
    // only 0 — 3 is missing, so node 0 must draw 3, and nothing else is
    // left to draw
    const g = undirected(5, [
      [0, 1],
      [1, 2],
      [2, 3],
      [0, 2],
      [1, 3],
      [3, 4],
    ]);
    const out = communityRewire(g, {
      mode: "add-within",
      communities: [0, 0, 0, 0, 1],
      partnersPerNode: 2,
      weight: 0.5,
    });
    expect(out.isWeighted).toBe(true);
    const added = edgeSet(out).filter((s) => s.endsWith(":0.5"));
    expect(added).toEqual(["0>3:0.5", "3>0:0.5"]);
    expect(out.numEdges).toBe(g.numEdges + 2);
  });

  it("adds only intra-community pairs and keeps the input", () => {
    for (let seed = 0; seed < 5; seed++) {
      const { graph, blocks } = planted(seed);
      const k = 1 + (seed % 3);
      const out = communityRewire(graph, {
        mode: "add-within",
        communities: blocks,
        partnersPerNode: k,
        seed,
      });
      expect(out.numNodes).toBe(60);
      expect(isSymmetric(out)).toBe(true);
      const before = new Set(edgeSet(graph));
      const after = edgeSet(out);
      for (const s of before) expect(after).toContain(s);
      const pairs = new Set<string>();
      for (let e = 0; e < out.numEdges; e++) {
        const a = out.src[e];
        const b = out.dst[e];
        expect(a).not.toBe(b);
        const key = `${a}>${b}:1`;
        if (before.has(key)) continue;
        expect(blocks[a]).toBe(blocks[b]);
        pairs.add(`${Math.min(a, b)},${Math.max(a, b)}`);
      }
      expect(out.numEdges).toBe(graph.numEdges + 2 * pairs.size);
      expect(pairs.size).toBeLessThanOrEqual(60 * k);

      // each node draws min(k, free_i) pairs itself, so the count is at
      // most N k; in 15-node blocks of density 0.5 with k <= 3 almost
      // every node still has k free partners, so it is above N k / 2
      expect(pairs.size).toBeGreaterThanOrEqual((60 * k) / 2);
      // no new pair appears twice (a pair drawn from both ends is added
      // once): the edge list has no duplicates
      expect(new Set(after).size).toBe(after.length);
    }
  });

  it("is deterministic given a seed and changes with it", () => {
    const { graph } = planted(1);
    const a = communityRewire(graph, { mode: "add-within", seed: 2 });
    const b = communityRewire(graph, { mode: "add-within", seed: 2 });
    const c = communityRewire(graph, { mode: "add-within", seed: 3 });
    expect(edgeSet(a)).toEqual(edgeSet(b));
    expect(edgeSet(a)).not.toEqual(edgeSet(c));
  });

  it("raises typed errors", () => {
    expect(() =>
      communityRewire(bridged, { mode: "add-within", communities: [0, 1] }),
    ).toThrow(ShapeError);
    expect(() =>
      communityRewire(bridged, {
        mode: "add-within",
        communities: [0, 0, 0, 1, 1, -1],
      }),
    ).toThrow(ConfigError);
    expect(() =>
      communityRewire(bridged, { mode: "merge" as "add-within" }),
    ).toThrow(ConfigError);
    expect(() =>
      communityRewire(bridged, { mode: "add-within", partnersPerNode: -1 }),
    ).toThrow(ConfigError);
  });
});

describe("withSelfLoops", () => {
  // 0 → 1 (weight 2), a loop 1 → 1 (weight 3), 2 alone
  const g = Graph.fromEdges([0, 1], [1, 1], {
    numNodes: 3,
    weights: [2, 3],
  });

  it("adds loops only where missing by default", () => {
    expect(edgeSet(withSelfLoops(g))).toEqual(
      ["0>0:1", "0>1:2", "1>1:3", "2>2:1"].sort(),
    );
  });

  it("replaces every loop with one of the given weight", () => {
    expect(edgeSet(withSelfLoops(g, { weight: 0.5, replace: true }))).toEqual(
      ["0>0:0.5", "0>1:2", "1>1:0.5", "2>2:0.5"].sort(),
    );
  });

  it("raises GraphError for a negative weight", () => {
    expect(() => withSelfLoops(g, { weight: -1 })).toThrow(GraphError);
  });
});
