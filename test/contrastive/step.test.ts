/**
 * The contrastive step: the parameter gradient as the vector–Jacobian
 * product with upstream −ΔF (ΔF by message passing) equals autodiff of
 * the written-out loss.
 *
 * Setting: float32, seeded inputs; an MLP encoder with BatchNorm and a
 * projector (and a predictor for SimSiam and BYOL), and a two-layer GCN
 * of the model builder (`GnnModel`) for GRACE and InfoNCE; B = 8 samples, 2 views (3 for one case).
 * Tolerance: relative error ‖g_update − g_loss‖ / ‖g_loss‖ < 1e-5 over
 * all parameters together, and for every parameter whose gradient is not
 * negligible (norm above 1e-3 of the largest) on its own. The largest
 * errors seen are a few 1e-7.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { GNNEncoder, MLPEncoder } from "../../src/contrastive/encoders.js";
import {
  ContrastiveNetwork,
  predictionHead,
  projectionHead,
  type ViewInput,
} from "../../src/contrastive/heads.js";
import {
  byolObjective,
  type ContrastiveObjective,
  graceObjective,
  infoNCEObjective,
  simSiamObjective,
  spectralObjective,
} from "../../src/contrastive/objectives.js";
import {
  type ContrastiveGradients,
  contrastiveGradients,
} from "../../src/contrastive/step.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { parseConfig } from "../../src/nn/config.js";
import { buildModel } from "../../src/nn/model.js";
import { mulberry32, randomNormal } from "../../src/random.js";

const B = 8;
const D = 10;

/** m views of B samples: a shared seeded base plus per-view noise. */
function views(seed: number, m = 2, d = D, graph?: (v: number) => Graph) {
  const r = mulberry32(seed);
  const base = Float32Array.from({ length: B * d }, () => randomNormal(r));
  const out: ViewInput[] = [];
  for (let v = 0; v < m; v++) {
    const x = Float32Array.from(base, (b) => b + 0.3 * randomNormal(r));
    out.push({ x: tf.tensor2d(x, [B, d]), graph: graph?.(v) });
  }
  return out;
}

function disposeViews(vs: ViewInput[]): void {
  for (const v of vs) (v.x as tf.Tensor).dispose();
}

function mlpNetwork(kind: "plain" | "simsiam" | "byol", seed = 1) {
  const encoder = () => new MLPEncoder({ dims: [D, 16, 12], seed });
  const projector = () =>
    projectionHead({
      inputDim: 12,
      hiddenDim: 12,
      outputDim: 8,
      seed: seed + 1,
    });
  if (kind === "plain") {
    return new ContrastiveNetwork({
      encoder: encoder(),
      projector: projector(),
    });
  }
  const predictor = predictionHead({
    inputDim: 8,
    hiddenDim: 4,
    seed: seed + 2,
  });
  if (kind === "simsiam") {
    return new ContrastiveNetwork({
      encoder: encoder(),
      projector: projector(),
      predictor,
      targets: "self",
    });
  }
  return new ContrastiveNetwork({
    encoder: encoder(),
    projector: projector(),
    predictor,
    targets: "ema",
    targetEncoder: new MLPEncoder({ dims: [D, 16, 12], seed: 99 }),
    targetProjector: projectionHead({
      inputDim: 12,
      hiddenDim: 12,
      outputDim: 8,
    }),
  });
}

/** A two-layer GCN from the model builder (12 hidden, dropout 0.2). */
function gcnModel(seed: number) {
  const config = parseConfig({
    task: "node-classification",
    dataset: { name: "cora" },
    model: { conv: "gcn", layers: 2, hidden: 12, dropout: 0.2 },
  });
  return buildModel(config.model, { inputDim: D, numClasses: 8, seed });
}

/** A random undirected graph over B nodes (view v drops other edges). */
function viewGraph(seed: number): Graph {
  const r = mulberry32(seed);
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < B; i++) {
    for (let j = i + 1; j < B; j++) {
      if (r() < 0.4) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: B });
}

function flat(g: ContrastiveGradients, names: string[]): Float64Array {
  const parts = names.map((n) =>
    Array.from((g.gradients.get(n) as tf.Tensor).dataSync()),
  );
  return Float64Array.from(parts.flat());
}

function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function disposeGradients(g: ContrastiveGradients): void {
  for (const t of g.gradients.values()) t.dispose();
}

/**
 * Both paths on the same network and batch (same seed): the worst
 * relative error, overall and per non-negligible parameter.
 */
function compare(
  network: ContrastiveNetwork,
  batch: { views: ViewInput[]; augmentation?: Graph },
  objective: ContrastiveObjective,
) {
  const update = contrastiveGradients(network, batch, objective, {
    seed: 7,
    computeLoss: true,
  });
  const loss = contrastiveGradients(network, batch, objective, {
    path: "loss",
    seed: 7,
  });
  const names = network.parameters().map((p) => p.name);
  expect([...update.gradients.keys()].sort()).toEqual([...names].sort());
  expect([...loss.gradients.keys()].sort()).toEqual([...names].sort());
  const overall = relative(flat(update, names), flat(loss, names));

  let worst = 0;
  const norms = names.map((n) =>
    Math.sqrt(relativeNormSquared(loss.gradients.get(n) as tf.Tensor)),
  );
  const largest = Math.max(...norms);
  names.forEach((n, i) => {
    if (norms[i] < 1e-3 * largest) return;
    const e = relative(
      (update.gradients.get(n) as tf.Tensor).dataSync(),
      (loss.gradients.get(n) as tf.Tensor).dataSync(),
    );
    worst = Math.max(worst, e);
  });
  const result = {
    overall,
    worst,
    lossUpdate: update.loss as number,
    lossLoss: loss.loss as number,
    norms: update.updateNorms,
  };
  disposeGradients(update);
  disposeGradients(loss);
  return result;
}

function relativeNormSquared(t: tf.Tensor): number {
  let s = 0;
  for (const v of t.dataSync()) s += v * v;
  return s;
}

describe("contrastiveGradients: update path = loss path", () => {
  const cases: Array<
    [string, () => ContrastiveObjective, "plain" | "simsiam" | "byol"]
  > = [
    ["InfoNCE", () => infoNCEObjective({ temperature: 0.5 }), "plain"],
    ["GRACE", () => graceObjective({ temperature: 0.4 }), "plain"],
    ["spectral", () => spectralObjective(), "plain"],
    ["SimSiam", () => simSiamObjective(), "simsiam"],
    ["BYOL", () => byolObjective(), "byol"],
  ];
  for (const [label, makeObjective, kind] of cases) {
    it(`${label} on an MLP encoder with projector`, () => {
      const network = mlpNetwork(kind);
      const vs = views(11);
      const objective = makeObjective();
      const r = compare(network, { views: vs }, objective);
      expect(r.overall).toBeLessThan(1e-5);
      expect(r.worst).toBeLessThan(1e-5);
      expect(Math.abs(r.lossUpdate - r.lossLoss)).toBeLessThan(
        1e-6 * Math.max(1, Math.abs(r.lossLoss)),
      );
      expect(r.norms?.alignment).toBeGreaterThan(0);
      if (kind === "plain") expect(r.norms?.uniformity).toBeGreaterThan(0);
      else expect(r.norms?.uniformity).toBe(0);
      disposeViews(vs);
      network.dispose();
    });
  }

  it("GRACE and InfoNCE on a GCN encoder, one graph per view", () => {
    // NOTE: with a projector without BatchNorm the GCN's outputs of this
    // tiny batch are nearly collinear: alignment and uniformity cancel to
    // 3 digits, and float32 noise in ΔF reached 1.4e-5 relative on the
    // smallest parameter gradient. BatchNorm in the projector spreads the
    // features (a well-conditioned ΔF); the tolerance stays 1e-5.
    for (const objective of [graceObjective(), infoNCEObjective()]) {
      const encoder = new GNNEncoder(gcnModel(3), { activation: "relu" });
      const network = new ContrastiveNetwork({
        encoder,
        projector: projectionHead({ inputDim: 8, outputDim: 6, seed: 4 }),
      });
      const vs = views(12, 2, D, (v) => viewGraph(20 + v));
      const r = compare(network, { views: vs }, objective);
      expect(r.overall).toBeLessThan(1e-5);
      expect(r.worst).toBeLessThan(1e-5);
      disposeViews(vs);
      network.dispose();
    }
  });

  it("three views per sample, anchor weights from the pass's outputs", () => {
    const network = mlpNetwork("plain", 5);
    const vs = views(13, 3);
    // SimCLR-Attn style: a softmax over anchors of a detached score
    const anchorWeights = (out: { hidden: tf.Tensor2D }) => {
      const h = out.hidden.dataSync();
      const n = out.hidden.shape[0];
      const s = Float64Array.from({ length: n }, (_, i) =>
        Math.tanh(h[i * 12]),
      );
      const z = s.reduce((a, v) => a + Math.exp(v), 0);
      return s.map((v) => Math.exp(v) / z);
    };
    const r = compare(
      network,
      { views: vs, anchorWeights } as never,
      infoNCEObjective(),
    );
    expect(r.overall).toBeLessThan(1e-5);
    expect(r.worst).toBeLessThan(1e-5);
    disposeViews(vs);
    network.dispose();
  });
});

describe("contrastiveGradients: behaviour", () => {
  it("leaves no tensors behind but the gradients it returns", () => {
    for (const [kind, objective] of [
      ["plain", infoNCEObjective()],
      ["byol", byolObjective()],
    ] as const) {
      const network = mlpNetwork(kind);
      const vs = views(14);
      for (const path of ["update", "loss"] as const) {
        const before = tf.memory().numTensors;
        const g = contrastiveGradients(network, { views: vs }, objective, {
          path,
          returnOutputs: true,
        });
        const outputs = g.outputs;
        expect(outputs?.features.shape).toEqual([2 * B, 8]);
        tf.dispose([
          outputs?.features,
          outputs?.hidden,
          outputs?.projections,
        ] as tf.Tensor[]);
        const extra = g.gradients.size;
        expect(tf.memory().numTensors).toBe(before + extra);
        disposeGradients(g);
        expect(tf.memory().numTensors).toBe(before);
      }
      disposeViews(vs);
      network.dispose();
    }
  });

  it("a small SGD step along the gradient lowers the loss", () => {
    const network = mlpNetwork("plain", 8);
    const vs = views(15);
    const objective = infoNCEObjective();
    const g = contrastiveGradients(network, { views: vs }, objective, {
      computeLoss: true,
    });
    for (const p of network.parameters()) {
      const grad = g.gradients.get(p.name) as tf.Tensor;
      p.variable.assign(tf.sub(p.variable, tf.mul(grad, 1e-2)));
    }
    const after = contrastiveGradients(network, { views: vs }, objective, {
      path: "loss",
    });
    expect(after.loss as number).toBeLessThan(g.loss as number);
    disposeGradients(g);
    disposeGradients(after);
    disposeViews(vs);
    network.dispose();
  });

  it("rejects bad paths, missing targets and graphs of the wrong size", () => {
    const network = mlpNetwork("plain");
    const vs = views(16);
    expect(() =>
      contrastiveGradients(network, { views: vs }, infoNCEObjective(), {
        path: "nope" as "loss",
      }),
    ).toThrow(ConfigError);
    expect(() =>
      contrastiveGradients(network, { views: vs }, simSiamObjective()),
    ).toThrow(ConfigError);
    const small = Graph.fromEdges([0], [1], { numNodes: 4 });
    expect(() =>
      contrastiveGradients(
        network,
        { views: vs, augmentation: small },
        infoNCEObjective(),
      ),
    ).toThrow(ShapeError);
    expect(() =>
      contrastiveGradients(network, { views: [] }, infoNCEObjective()),
    ).toThrow(ShapeError);
    disposeViews(vs);
    network.dispose();
  });
});
