/**
 * Checkpoint files: a save/load round trip keeps every float32 bit
 * (special values included: −0, ±Inf, NaN payloads, subnormals), writes
 * atomically (no temporary file left, the old file replaced whole), and
 * refuses files of another format.
 */

import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CHECKPOINT_FILE,
  type ContrastiveCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../../src/contrastive/checkpoint.js";
import { ConfigError } from "../../src/errors.js";
import { mulberry32 } from "../../src/random.js";

const root = mkdtempSync(join(tmpdir(), "mpcl-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Float32 values from raw bits (random, plus special values). */
function floats(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const bits = Uint32Array.from(
    { length: n },
    () => Math.floor(r() * 2 ** 32) >>> 0,
  );
  const special = [0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0x00000001];
  bits.set(special.slice(0, Math.min(n, special.length)));
  return new Float32Array(bits.buffer);
}

function bitsOf(a: Float32Array | Int32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function sample(epoch: number): ContrastiveCheckpoint {
  return {
    epoch,
    seed: 4,
    name: "demo",
    tensors: {
      "online.encoder.layers.0.weight": {
        shape: [3, 4],
        values: floats(12, 1),
      },
      "online.encoder.layers.0.bias": { shape: [4], values: floats(4, 2) },
    },
    optimizer: {
      kind: "adam",
      step: 17,
      slots: {
        "encoder.layers.0.weight": { m: floats(12, 3), v: floats(12, 4) },
      },
    },
    memory: {
      numSamples: 2,
      dim: 3,
      epochs: 2,
      values: floats(12, 5),
      counts: Int32Array.from([1, 2]),
      heads: Int32Array.from([1, 0]),
    },
  };
}

describe("saveCheckpoint / loadCheckpoint", () => {
  it("round-trips every bit", () => {
    const dir = join(root, "a");
    const c = sample(3);
    saveCheckpoint(dir, c);
    const back = loadCheckpoint(dir) as ContrastiveCheckpoint;
    expect(back.epoch).toBe(3);
    expect(back.seed).toBe(4);
    expect(back.name).toBe("demo");
    for (const [name, t] of Object.entries(c.tensors)) {
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(bitsOf(back.tensors[name].values)).toEqual(bitsOf(t.values));
    }
    expect(back.optimizer.kind).toBe("adam");
    expect(back.optimizer.step).toBe(17);
    const slots = back.optimizer.slots["encoder.layers.0.weight"];
    expect(bitsOf(slots.m)).toEqual(bitsOf(floats(12, 3)));
    expect(bitsOf(slots.v)).toEqual(bitsOf(floats(12, 4)));
    const m = back.memory;
    expect(m?.numSamples).toBe(2);
    expect(bitsOf(m?.values as Float32Array)).toEqual(bitsOf(floats(12, 5)));
    expect(Array.from(m?.counts ?? [])).toEqual([1, 2]);
    expect(Array.from(m?.heads ?? [])).toEqual([1, 0]);
  });

  it("replaces the old file whole and leaves no temporary file", () => {
    const dir = join(root, "b");
    saveCheckpoint(dir, sample(1));
    saveCheckpoint(dir, { ...sample(2), memory: null });
    expect(readdirSync(dir)).toEqual([CHECKPOINT_FILE]);
    const back = loadCheckpoint(dir);
    expect(back?.epoch).toBe(2);
    expect(back?.memory).toBeNull();
  });

  it("null without a file; ConfigError for another format or bad JSON", () => {
    expect(loadCheckpoint(join(root, "none"))).toBeNull();
    const dir = join(root, "c");
    saveCheckpoint(dir, sample(1));
    const path = join(dir, CHECKPOINT_FILE);
    const json = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...json, format: "other" }));
    expect(() => loadCheckpoint(dir)).toThrow(ConfigError);
    writeFileSync(path, JSON.stringify({ ...json, version: 2 }));
    expect(() => loadCheckpoint(dir)).toThrow(ConfigError);
    writeFileSync(path, "{ truncated");
    expect(() => loadCheckpoint(dir)).toThrow(ConfigError);
  });
});
