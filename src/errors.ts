/**
 * Typed errors of mpcl. Tests check the class of an error, never its
 * wording; every message starts with the function that raised it and says
 * what was expected and what was received.
 */

/** Base class of every error mpcl raises on purpose. */
export class MpclError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A graph's arrays are inconsistent: ids out of range, bad weights, … */
export class GraphError extends MpclError {}

/**
 * A file (edge list, dataset) is malformed. Carries the path and, where
 * the fault sits on one line, its 1-based line number.
 */
export class GraphFormatError extends MpclError {
  readonly path: string;
  readonly line: number | undefined;

  constructor(path: string, line: number | undefined, message: string) {
    const where = line === undefined ? path : `${path}:${line}`;
    super(`${where}: ${message}`);
    this.path = path;
    this.line = line;
  }
}

/** A dataset file is missing, has the wrong checksum or wrong counts. */
export class DatasetError extends MpclError {}

/** Tensor or array shapes do not fit together. */
export class ShapeError extends MpclError {}

/** An option or configuration value is invalid. */
export class ConfigError extends MpclError {}

/** A computation produced NaN/Inf or failed to converge. */
export class NumericalError extends MpclError {}

/** A documented case that is not implemented yet. */
export class NotImplementedError extends MpclError {}
