import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseContrastiveConfig } from "../src/contrastive/config.js";
import { contrastiveData } from "../src/contrastive/trainer.js";
import { linearProbeEvaluation } from "../src/eval/protocol.js";
import { loadDataset } from "../src/graph/datasets/index.js";
import type { ImageDataset } from "../src/graph/datasets/types.js";
import { writeTextAtomicSync } from "../src/report/write.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const { values } = parseArgs({
  options: {
    out: { type: "string", default: join(ROOT, "experiments/results/runs") },
    datasets: { type: "string", default: "mnist,optdigits" },
  },
});

const result: Record<string, unknown> = {};
const protocols: Record<string, unknown> = {};
for (const name of (values.datasets as string).split(",")) {
  const config = parseContrastiveConfig({
    task: "contrastive",
    dataset: { name },
  });
  const dataset = (await loadDataset(name as "mnist")) as ImageDataset;
  // the same pixels the encoders see (optdigits divided by 16)
  const data = contrastiveData(config, dataset);
  if (data.kind !== "image") throw new Error(`${name} is not an image set`);
  const n = data.labels.length;
  const split = {
    train: Array.from({ length: data.numTrain }, (_, i) => i),
    test: Array.from(
      { length: n - data.numTrain },
      (_, i) => data.numTrain + i,
    ),
  };
  const t0 = performance.now();
  const probe = linearProbeEvaluation(data.images, data.labels, split, {
    normalize: "standardize",
    validation: "holdout",
    pathPatience: config.eval.probePatience ?? undefined,
    seed: 0,
    splitName: data.splitName,
  });
  const seconds = (performance.now() - t0) / 1000;
  result[name] = Math.round(probe.testAccuracy * 1e4) / 100;
  protocols[name] = {
    ...probe.protocol,
    seconds: Math.round(seconds * 10) / 10,
  };
  console.log(
    `${name}: raw-pixel linear probe ${(probe.testAccuracy * 100).toFixed(2)} % ` +
      `(λ = ${probe.chosenL2.toExponential(1)}, ${seconds.toFixed(1)} s)`,
  );
}
result.protocol = protocols;
mkdirSync(values.out as string, { recursive: true });
const path = join(values.out as string, "raw-pixels.json");
writeTextAtomicSync(path, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${path}`);
