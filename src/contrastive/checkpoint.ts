/**
 * Checkpoints of contrastive training: everything a run needs to go on
 * exactly where it stopped — parameter values (the EMA target network's
 * and BatchNorm statistics included), the optimizer's state, the memory
 * bank of multi-stage alignment, and the epoch (the random draws of an
 * epoch derive from the seed and the epoch number, so they need no
 * state). One JSON file, float arrays as base64 of their little-endian
 * bytes (bit-exact), written atomically: a temporary file renamed over
 * the old one, so a crash leaves the last good checkpoint in place.
 */

import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import type { OptimizerState } from "../nn/optim.js";
import type { MemoryBankState } from "./tricks/memory.js";

/** The file name of a checkpoint inside its directory. */
export const CHECKPOINT_FILE = "checkpoint.json";

/** What a checkpoint holds. */
export interface ContrastiveCheckpoint {
  /** Epochs completed (the next epoch to run is `epoch + 1`). */
  epoch: number;
  /** Seed of the run (a resume under another seed is refused). */
  seed: number;
  /** Name of the experiment config (a resume under another is refused). */
  name: string;
  /** Float32 values by name, and their shapes. */
  tensors: Record<string, { shape: number[]; values: Float32Array }>;
  optimizer: OptimizerState;
  memory: MemoryBankState | null;
}

/** Float32 or Int32 array → base64 of its bytes. */
function encode(a: Float32Array | Int32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

/** base64 → a fresh Float32Array (or Int32Array). */
function decodeFloat(s: string): Float32Array {
  const bytes = Buffer.from(s, "base64");
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function decodeInt(s: string): Int32Array {
  const bytes = Buffer.from(s, "base64");
  const out = new Int32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * Write `checkpoint` to `dir/checkpoint.json` (creating `dir`): a
 * temporary file in the same directory, then a rename over the old one.
 */
export function saveCheckpoint(
  dir: string,
  checkpoint: ContrastiveCheckpoint,
): void {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, { shape: number[]; values: string }> = {};
  for (const [name, t] of Object.entries(checkpoint.tensors)) {
    tensors[name] = { shape: t.shape, values: encode(t.values) };
  }
  const slots: Record<string, Record<string, string>> = {};
  for (const [p, s] of Object.entries(checkpoint.optimizer.slots)) {
    slots[p] = {};
    for (const [name, values] of Object.entries(s)) {
      slots[p][name] = encode(values);
    }
  }
  const m = checkpoint.memory;
  const json = {
    format: "mpcl-contrastive-checkpoint",
    version: 1,
    epoch: checkpoint.epoch,
    seed: checkpoint.seed,
    name: checkpoint.name,
    tensors,
    optimizer: {
      kind: checkpoint.optimizer.kind,
      step: checkpoint.optimizer.step,
      slots,
    },
    memory:
      m === null
        ? null
        : {
            numSamples: m.numSamples,
            dim: m.dim,
            epochs: m.epochs,
            values: encode(m.values),
            counts: encode(m.counts),
            heads: encode(m.heads),
          },
  };
  const path = join(dir, CHECKPOINT_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(json));
  renameSync(tmp, path);
}

/**
 * Read `dir/checkpoint.json`, or null when there is none.
 *
 * @throws ConfigError for a file that is not a checkpoint of this format.
 */
export function loadCheckpoint(dir: string): ContrastiveCheckpoint | null {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) return null;
  let json: {
    format?: string;
    version?: number;
    epoch: number;
    seed: number;
    name: string;
    tensors: Record<string, { shape: number[]; values: string }>;
    optimizer: {
      kind: string;
      step: number;
      slots: Record<string, Record<string, string>>;
    };
    memory: {
      numSamples: number;
      dim: number;
      epochs: number;
      values: string;
      counts: string;
      heads: string;
    } | null;
  };
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(
      `loadCheckpoint: ${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (json?.format !== "mpcl-contrastive-checkpoint" || json.version !== 1) {
    throw new ConfigError(
      `loadCheckpoint: ${path}: expected format ` +
        `"mpcl-contrastive-checkpoint" version 1, got ` +
        `${JSON.stringify(json?.format)} version ${json?.version}`,
    );
  }
  const tensors: ContrastiveCheckpoint["tensors"] = {};
  for (const [name, t] of Object.entries(json.tensors)) {
    tensors[name] = { shape: t.shape, values: decodeFloat(t.values) };
  }
  const slots: OptimizerState["slots"] = {};
  for (const [p, s] of Object.entries(json.optimizer.slots)) {
    slots[p] = {};
    for (const [name, values] of Object.entries(s)) {
      slots[p][name] = decodeFloat(values);
    }
  }
  const m = json.memory;
  return {
    epoch: json.epoch,
    seed: json.seed,
    name: json.name,
    tensors,
    optimizer: {
      kind: json.optimizer.kind,
      step: json.optimizer.step,
      slots,
    },
    memory:
      m === null
        ? null
        : {
            numSamples: m.numSamples,
            dim: m.dim,
            epochs: m.epochs,
            values: decodeFloat(m.values),
            counts: decodeInt(m.counts),
            heads: decodeInt(m.heads),
          },
  };
}
