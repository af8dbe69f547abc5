/**
 * UCI Optical Recognition of Handwritten Digits (E. Alpaydin & C. Kaynak,
 * 1998): 32 × 32 bitmaps reduced to 8 × 8 counts of "on" pixels in 4 × 4
 * blocks (values 0..16). The test part (`optdigits.tes`) is the data of
 * scikit-learn's `load_digits`. See `experiments/datasets/optdigits/`.
 */

import { IntLines } from "./files.js";
import { type ImageDatasetSpec, loadImageDataset } from "./imageSet.js";
import type { ImageDataset, ImageSplit, LoadOptions } from "./types.js";

const SIDE = 8;
const PIXELS = SIDE * SIDE;
const MAX_VALUE = 16;

/** optdigits: what `experiments/datasets/optdigits/README.md` states. */
export const OPTDIGITS_SPEC: ImageDatasetSpec = {
  name: "optdigits",
  fn: "loadOptdigits",
  sha256: {
    "optdigits.tra":
      "e1b683cc211604fe8fd8c4417e6a69f31380e0c61d4af22e93cc21e9257ffedd",
    "optdigits.tes":
      "85f89a0333cbbcf5b1a42f3d4d74013ee35f5e44dbeb5f9b54f78ce5b4f94910",
  },
  height: SIDE,
  width: SIDE,
  numClasses: 10,
  train: {
    files: ["optdigits.tra"],
    classSizes: [376, 389, 380, 389, 387, 376, 377, 387, 380, 382],
  },
  test: {
    files: ["optdigits.tes"],
    classSizes: [178, 182, 177, 183, 181, 182, 181, 179, 174, 180],
  },
  parse: parseOptdigitsPart,
};

/**
 * UCI optdigits: 3,823 training and 1,797 test digits, each 64 values
 * 0..16 (8 × 8, row-major) and a class 0..9, in file order.
 *
 * `images` holds the values as float32, NOT rescaled (range [0, 16]);
 * `raw` the same values as bytes. The train and test sets come from
 * different writers (30 and 13 people), as in the original protocol.
 *
 * Options: see `LoadOptions`. Raises `DatasetError` for a missing file,
 * a wrong sha256 or wrong counts, and `GraphFormatError` (path and line)
 * for a line that is not 64 values 0..16 and a class 0..9.
 */
export function loadOptdigits(options: LoadOptions = {}): ImageDataset {
  return loadImageDataset(OPTDIGITS_SPEC, options);
}

/** One optdigits part from its CSV file (blank lines skipped). */
function parseOptdigitsPart(
  fn: string,
  files: { path: string; bytes: Buffer }[],
): ImageSplit {
  const [{ path, bytes }] = files;
  const lines = new IntLines(fn, path, bytes);

  // first pass: the non-blank lines are the samples
  const rows: number[] = [];
  for (let k = 0; k < lines.count; k++) {
    if (!lines.isBlank(k)) rows.push(k);
  }
  const count = rows.length;
  const raw = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);

  // then each line: 64 values 0..16, then the class
  const row: number[] = [];
  rows.forEach((k, s) => {
    if (lines.ints(k, "comma", row) !== PIXELS + 1) {
      lines.fail(k, `expected ${PIXELS + 1} comma-separated integers`);
    }
    for (let p = 0; p < PIXELS; p++) {
      const v = row[p];
      if (v < 0 || v > MAX_VALUE) {
        lines.fail(k, `expected values in 0..${MAX_VALUE} (value ${p + 1})`);
      }
      raw[s * PIXELS + p] = v;
    }
    const c = row[PIXELS];
    if (c < 0 || c > 9) lines.fail(k, "expected a class in 0..9 last");
    labels[s] = c;
  });

  return { images: Float32Array.from(raw), raw, labels, count };
}
