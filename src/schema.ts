/**
 * The zod building blocks of the experiment configs (`nn/config.ts`,
 * `contrastive/config.ts`): each carries the sentence its error message
 * gives (`expected a positive integer`), so a config error reads
 * `<file>: <JSON path>: <expected>, got <value>` whichever schema found it.
 */

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";
import { ConfigError } from "./errors.js";

/** A schema for one of `values`, with a readable error. */
export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
) {
  return z.enum(values, {
    error: `expected one of ${values.map((v) => JSON.stringify(v)).join(", ")}`,
  });
}

/** A number that passes `check`, or the error `expected <what>`. */
function number(
  what: string,
  check: (n: z.ZodNumber, error: string) => z.ZodNumber,
) {
  const error = `expected ${what}`;
  return check(z.number({ error }), error);
}

/** An integer ≥ 1. */
export const positiveInteger = number("a positive integer", (n, error) =>
  n.int({ error }).positive({ error }),
);
/** An integer ≥ 0. */
export const nonNegativeInteger = number("a non-negative integer", (n, error) =>
  n.int({ error }).nonnegative({ error }),
);
/** A finite number > 0. */
export const positiveNumber = number("a positive finite number", (n, error) =>
  n.positive({ error }),
);
/** A finite number ≥ 0. */
export const nonNegativeNumber = number(
  "a non-negative finite number",
  (n, error) => n.nonnegative({ error }),
);
/** A rate in [0, 1): dropout and the like. */
export const rate = number("a rate in [0, 1)", (n, error) =>
  n.nonnegative({ error }).lt(1, { error }),
);
/** A probability in (0, 1]. */
export const probability = number("a number in (0, 1]", (n, error) =>
  n.positive({ error }).lte(1, { error }),
);
/** A number in [0, 1]. */
export const unit = number("a number in [0, 1]", (n, error) =>
  n.nonnegative({ error }).lte(1, { error }),
);
/** true or false. */
export const boolean = z.boolean({ error: "expected true or false" });
/** A string. */
export const text = z.string({ error: "expected a string" });
/** `[low, high]`. */
export const range = z.tuple([z.number(), z.number()], {
  error: "expected [low, high]",
});

/** An object of exactly these fields (an unknown field is an error). */
export const object = <S extends z.ZodRawShape>(shape: S) =>
  z.strictObject(shape, { error: "expected an object" });

/** A published number a result is shown next to. */
export const publishedFields = {
  mean: nonNegativeNumber,
  std: nonNegativeNumber.nullable().optional(),
  source: text,
};

/**
 * The JSON of the config file at `path` and the base name its errors
 * give (`<file>: …`).
 *
 * @throws ConfigError naming `fn` and the path when the file cannot be
 *   read, and the file when it is not JSON.
 */
export function readConfigJson(
  fn: string,
  path: string,
): { file: string; json: unknown } {
  const file = basename(path);
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `${fn}: cannot read ${path}: ${(err as Error).message}`,
    );
  }
  try {
    return { file, json: JSON.parse(content) };
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
}
