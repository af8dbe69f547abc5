/**
 * Parameter initialisers of the layers of nn/, drawn from mpcl's seeded
 * random source so that a seed fixes every initial weight:
 *
 * - Glorot (Xavier) uniform and normal, from Glorot & Bengio (2010),
 *   "Understanding the difficulty of training deep feedforward neural
 *   networks": the default of Kipf & Welling's GCN, GraphSAGE and GAT;
 * - He (Kaiming) uniform, from He et al. (2015), "Delving Deep into
 *   Rectifiers";
 * - PyTorch's `nn.Linear` default, U(−1/√fanIn, 1/√fanIn) for the weight
 *   and the bias (used by GIN's reference implementation).
 *
 * A weight matrix `[fanIn, fanOut]` is filled row-major, one draw per
 * entry, so the stream position after an initialiser is predictable.
 */

import { tf } from "../backend.js";
import { ConfigError } from "../errors.js";
import { type Random, randomNormal } from "../random.js";

/** Check that a fan or size is a positive integer. */
function checkCount(fn: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(
      `${fn}: ${name} must be a positive integer, got ${value}`,
    );
  }
}

/**
 * `size` draws from U(−limit, limit), in order. Raises `ConfigError` for
 * a size that is not a positive integer or a limit that is not a finite
 * non-negative number.
 */
export function uniform(
  size: number,
  limit: number,
  random: Random,
): Float32Array {
  checkCount("uniform", "size", size);
  if (!Number.isFinite(limit) || limit < 0) {
    throw new ConfigError(
      `uniform: limit must be a finite number >= 0, got ${limit}`,
    );
  }
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = limit * (2 * random() - 1);
  return out;
}

/**
 * Glorot uniform: a `[fanIn, fanOut]` matrix (row-major) drawn from
 * U(−a, a) with `a = sqrt(6 / (fanIn + fanOut))`, so that the variance
 * `a² / 3 = 2 / (fanIn + fanOut)` is the mean of the forward and backward
 * variance-preserving values.
 */
export function glorotUniform(
  fanIn: number,
  fanOut: number,
  random: Random,
): Float32Array {
  checkCount("glorotUniform", "fanIn", fanIn);
  checkCount("glorotUniform", "fanOut", fanOut);
  return uniform(fanIn * fanOut, Math.sqrt(6 / (fanIn + fanOut)), random);
}

/**
 * Glorot normal: a `[fanIn, fanOut]` matrix of N(0, σ²) draws with
 * `σ = sqrt(2 / (fanIn + fanOut))` (Box–Muller, two uniforms per entry).
 *
 * NOTE: not truncated (Keras truncates at 2σ and rescales); the
 * variance is exactly the Glorot value.
 */
export function glorotNormal(
  fanIn: number,
  fanOut: number,
  random: Random,
): Float32Array {
  checkCount("glorotNormal", "fanIn", fanIn);
  checkCount("glorotNormal", "fanOut", fanOut);
  const sigma = Math.sqrt(2 / (fanIn + fanOut));
  const out = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < out.length; i++) out[i] = sigma * randomNormal(random);
  return out;
}

/**
 * He (Kaiming) uniform for ReLU networks: `size` draws from U(−a, a)
 * with `a = sqrt(6 / fanIn)`, so the variance is `2 / fanIn`.
 */
export function heUniform(
  fanIn: number,
  size: number,
  random: Random,
): Float32Array {
  checkCount("heUniform", "fanIn", fanIn);
  return uniform(size, Math.sqrt(6 / fanIn), random);
}

/**
 * PyTorch's `nn.Linear` default (`kaiming_uniform_` with `a = √5`, and
 * the same bound for the bias): `size` draws from U(−a, a) with
 * `a = 1 / sqrt(fanIn)`, so the variance is `1 / (3 fanIn)`. Use it for
 * the weight `[fanIn, fanOut]` and for the bias `[fanOut]`.
 */
export function kaimingUniform(
  fanIn: number,
  size: number,
  random: Random,
): Float32Array {
  checkCount("kaimingUniform", "fanIn", fanIn);
  return uniform(size, 1 / Math.sqrt(fanIn), random);
}

/** `size` zeros (biases of Glorot-initialised layers). */
export function zeros(size: number): Float32Array {
  checkCount("zeros", "size", size);
  return new Float32Array(size);
}

/** The weight initialisations a layer can ask for. */
export type InitName = "glorot" | "kaiming";

/** The allowed {@link InitName}s, for validation. */
export const INIT_NAMES: readonly InitName[] = ["glorot", "kaiming"];

/**
 * Check an {@link InitName}: `ConfigError` naming `caller` and the
 * allowed names otherwise.
 */
export function checkInit(caller: string, init: unknown): InitName {
  if (!INIT_NAMES.includes(init as InitName)) {
    throw new ConfigError(
      `${caller}: init must be one of ${INIT_NAMES.join(", ")}, got ` +
        `${JSON.stringify(init)}`,
    );
  }
  return init as InitName;
}

/**
 * A weight `[fanIn, fanOut]` and a bias `[fanOut]` by the scheme `init`:
 * `"glorot"` gives Glorot uniform and a zero bias (Kipf & Welling,
 * Hamilton et al.); `"kaiming"` gives PyTorch's `nn.Linear` default for
 * both. The weight is drawn first, then the bias (only when `bias`).
 */
export function denseInit(
  init: InitName,
  fanIn: number,
  fanOut: number,
  bias: boolean,
  random: Random,
): { weight: Float32Array; bias: Float32Array | null } {
  if (init === "glorot") {
    return {
      weight: glorotUniform(fanIn, fanOut, random),
      bias: bias ? zeros(fanOut) : null,
    };
  }
  return {
    weight: kaimingUniform(fanIn, fanIn * fanOut, random),
    bias: bias ? kaimingUniform(fanIn, fanOut, random) : null,
  };
}

/**
 * A trainable float32 `tf.Variable` of shape `shape` holding `data`
 * (row-major). No name is given to TF.js (names must be unique in its
 * registry); layers name their parameters in `parameters()`. The caller
 * owns the variable and disposes it.
 */
export function createVariable(
  data: Float32Array,
  shape: readonly number[],
): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new ConfigError(
      `createVariable: shape [${shape}] holds ${size} values, got ` +
        `${data.length}`,
    );
  }
  const t = tf.tensor(data, shape as number[], "float32");
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}
