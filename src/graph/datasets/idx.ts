/**
 * Reader of the idx format of MNIST (LeCun et al., "Gradient-based
 * learning applied to document recognition", 1998; format described on
 * the MNIST page): a big-endian header — two zero bytes, a type byte
 * (0x08 = unsigned byte), the number of dimensions — then one big-endian
 * int32 per dimension, then the values row-major. Only unsigned-byte
 * files are read, gzipped or not.
 */

import { gunzipSync } from "node:zlib";
import { GraphFormatError } from "../../errors.js";

/** An idx array of unsigned bytes. */
export interface IdxArray {
  /** Size of every dimension, e.g. `[10000, 28, 28]`. */
  readonly dims: number[];
  /** The values, row-major (a copy, not a view of the file). */
  readonly data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/**
 * Parse an idx file of unsigned bytes with `numDims` dimensions from its
 * bytes (gunzipped first when they start with the gzip magic 1f 8b).
 * Raises `GraphFormatError` (with `path`, no line) for a bad gzip stream,
 * a wrong magic number or dimension count, or a length that does not
 * match the header.
 */
export function parseIdx(
  fn: string,
  path: string,
  bytes: Uint8Array,
  numDims: number,
): IdxArray {
  let raw = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new GraphFormatError(
        path,
        undefined,
        `${fn}: expected a valid gzip stream, got an error: ${reason}`,
      );
    }
  }

  // the magic number: 0x00 0x00, the value type, the dimension count
  const magic = (UNSIGNED_BYTE << 8) | numDims;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const found = raw.length >= 4 ? view.getUint32(0) : -1;
  if (found !== magic) {
    const got = found < 0 ? "a file shorter than 4 bytes" : `0x${hex(found)}`;
    throw new GraphFormatError(
      path,
      undefined,
      `${fn}: expected idx magic number 0x${hex(magic)} (unsigned ` +
        `bytes, ${numDims} dims), got ${got}`,
    );
  }

  // then one int32 per dimension, then exactly their product of bytes
  const header = 4 + 4 * numDims;
  if (raw.length < header) {
    throw new GraphFormatError(
      path,
      undefined,
      `${fn}: expected a header of ${header} bytes, got ${raw.length} bytes`,
    );
  }
  const dims: number[] = [];
  let size = 1;
  for (let d = 0; d < numDims; d++) {
    const n = view.getInt32(4 + 4 * d);
    if (n < 0) {
      throw new GraphFormatError(
        path,
        undefined,
        `${fn}: expected non-negative dimension ${d}, got ${n}`,
      );
    }
    dims.push(n);
    size *= n;
  }
  if (raw.length - header !== size) {
    throw new GraphFormatError(
      path,
      undefined,
      `${fn}: expected ${size} data bytes for dims [${dims.join(", ")}], ` +
        `got ${raw.length - header}`,
    );
  }
  return { dims, data: raw.slice(header) };
}

/** Eight hex digits. */
function hex(v: number): string {
  return v.toString(16).padStart(8, "0");
}
