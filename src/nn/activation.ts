/**
 * Element-wise activations of the layers of nn/, named so that configs
 * can choose them: ReLU, ELU (Clevert et al. 2016; GAT's hidden
 * activation), leaky ReLU, tanh, the logistic sigmoid and the identity.
 */

import { tf } from "../backend.js";
import { ConfigError } from "../errors.js";

/** Names of the activations {@link activate} knows. */
export type ActivationName =
  | "relu"
  | "elu"
  | "leaky_relu"
  | "tanh"
  | "sigmoid"
  | "identity";

/** Every {@link ActivationName}, in a stable order. */
export const ACTIVATION_NAMES: readonly ActivationName[] = [
  "relu",
  "elu",
  "leaky_relu",
  "tanh",
  "sigmoid",
  "identity",
];

/** Options of {@link activate}. */
export interface ActivationOptions {
  /** Slope of leaky ReLU for x < 0; default 0.01 (PyTorch's). */
  negativeSlope?: number;
}

/**
 * Check an activation name: returns it, or raises `ConfigError` naming
 * `caller` and listing the allowed names.
 */
export function checkActivation(caller: string, name: unknown): ActivationName {
  if (!ACTIVATION_NAMES.includes(name as ActivationName)) {
    throw new ConfigError(
      `${caller}: activation must be one of ${ACTIVATION_NAMES.join(", ")}, ` +
        `got ${JSON.stringify(name)}`,
    );
  }
  return name as ActivationName;
}

/**
 * Apply the activation `name` element-wise:
 * relu `max(x, 0)`; elu `x` for x > 0 else `eˣ − 1`; leaky_relu `x` for
 * x > 0 else `negativeSlope · x`; tanh; sigmoid `1 / (1 + e⁻ˣ)`;
 * identity returns `x` itself (not a copy).
 *
 * Raises `ConfigError` for an unknown name.
 */
export function activate<T extends tf.Tensor>(
  x: T,
  name: ActivationName,
  options: ActivationOptions = {},
): T {
  switch (checkActivation("activate", name)) {
    case "relu":
      return tf.relu(x);
    case "elu":
      return tf.elu(x);
    case "leaky_relu":
      return tf.leakyRelu(x, options.negativeSlope ?? 0.01);
    case "tanh":
      return tf.tanh(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "identity":
      return x;
  }
}
