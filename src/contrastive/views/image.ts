/**
 * Seeded image augmentations for contrastive learning, on batches of
 * float32 images held in plain typed arrays: random resized crops, random
 * affine maps (rotation, translation, scale), Gaussian noise and random
 * erasing, as in SimCLR (Chen et al. 2020, "A Simple Framework for
 * Contrastive Learning of Visual Representations") and random erasing
 * (Zhong et al. 2020), with the parameter ranges of torchvision.
 *
 * A batch is row-major `[B, H, W]` or `[B, H, W, C]` (channels last),
 * values in [0, 1] (for other ranges, such as optdigits' 0..16, the noise
 * level and the erasing value are in the images' own units). Every
 * function returns a new array and never writes into its input.
 *
 * Coordinates. Pixel (i, j) (row i, column j) has its centre at the point
 * y = i, x = j; x grows to the right and y downwards. Geometric
 * transforms are inverse-mapped: every output pixel centre is sent to a
 * point of the input, which is sampled bilinearly from its four nearest
 * pixel centres, with zeros outside the image ("zero padding"). A map is
 * stored as the six numbers of `x_in = a x + b y + c`,
 * `y_in = d x + e y + f` ({@link InverseMap}).
 */

import { ConfigError, ShapeError } from "../../errors.js";
import type { Random } from "../../random.js";

/** The shape of one image: height, width and channels (default 1). */
export interface ImageShape {
  readonly height: number;
  readonly width: number;
  /** Channels per pixel, stored last (default 1). */
  readonly channels?: number;
}

/**
 * Inverse maps of a batch, six float64 numbers per image,
 * `[a, b, c, d, e, f]`: output pixel centre (x, y) reads the input at
 * `x_in = a x + b y + c`, `y_in = d x + e y + f`.
 */
export type InverseMap = Float64Array;

/** A crop rectangle in pixels: `top`, `left`, `height`, `width`. */
export interface CropBox {
  /** Row of the box's top edge (pixel edges, so 0 is the image top). */
  readonly top: number;
  /** Column of the box's left edge. */
  readonly left: number;
  /** Height in pixels (need not be a whole number for crops). */
  readonly height: number;
  /** Width in pixels. */
  readonly width: number;
}

/** The parameters of one affine transform, applied about the centre. */
export interface AffineParams {
  /** Rotation in degrees, counter-clockwise as the image is displayed. */
  readonly angle: number;
  /** Shift to the right, in pixels (may be fractional). */
  readonly translateX: number;
  /** Shift downwards, in pixels (may be fractional). */
  readonly translateY: number;
  /** Zoom factor (> 1 enlarges the content). */
  readonly scale: number;
}

/** An augmentation of a batch: a new array, the input left untouched. */
export type ImageAugmentation = (
  images: Float32Array,
  random: Random,
) => Float32Array;

/** Options of {@link randomResizedCrop}. */
export interface RandomResizedCropOptions {
  /**
   * Range of the crop's area as a fraction of the image's (default
   * [0.6, 1]; torchvision's default is [0.08, 1], far too aggressive for
   * 28 × 28 digits).
   */
  readonly scale?: readonly [number, number];
  /**
   * Range of the crop's aspect ratio width / height, drawn log-uniformly
   * (default [3/4, 4/3]).
   */
  readonly ratio?: readonly [number, number];
}

/** Options of {@link randomAffine}. */
export interface RandomAffineOptions {
  /**
   * Rotation range in degrees: a number d means [-d, d] (default 15).
   */
  readonly degrees?: number | readonly [number, number];
  /**
   * Largest shift as a fraction of the width (horizontally) and height
   * (vertically): shifts are uniform in [-t W, t W] × [-t H, t H] pixels
   * and may be fractional (default 0.1).
   */
  readonly translate?: number;
  /** Range of the zoom factor (default [1, 1], no zoom). */
  readonly scale?: readonly [number, number];
}

/** Options of {@link gaussianNoise}. */
export interface GaussianNoiseOptions {
  /** Standard deviation of the added noise (default 0.1). */
  readonly std?: number;
  /** Whether results are clipped to [0, 1] (default false). */
  readonly clip?: boolean;
}

/** Options of {@link randomErasing}. */
export interface RandomErasingOptions {
  /** Probability that an image gets a rectangle erased (default 0.5). */
  readonly p?: number;
  /** Range of the rectangle's area fraction (default [0.02, 0.2]). */
  readonly scale?: readonly [number, number];
  /**
   * Range of the rectangle's aspect ratio width / height, drawn
   * log-uniformly (default [0.3, 3.3], torchvision's).
   */
  readonly ratio?: readonly [number, number];
  /** The value written into the rectangle (default 0). */
  readonly value?: number;
}

/**
 * Which augmentations {@link imageAugmentation} applies, in this order:
 * crop, affine (both fused into one resampling), noise, erasing. A step
 * runs when its field is present (`{}` takes that step's defaults) and is
 * skipped when the field is absent or null.
 */
export interface ImageAugmentationSpec {
  readonly crop?: RandomResizedCropOptions | null;
  readonly affine?: RandomAffineOptions | null;
  readonly noise?: GaussianNoiseOptions | null;
  readonly erasing?: RandomErasingOptions | null;
}

/**
 * The augmentations of the MNIST SimCLR reference run (96 % linear probe
 * after 5 epochs): small affine maps (±15°, shifts up to 10 %), Gaussian
 * noise of standard deviation 0.1 and erasing with probability 0.5, no
 * crop.
 */
export const MNIST_AUGMENTATION: ImageAugmentationSpec = Object.freeze({
  affine: Object.freeze({ degrees: 15, translate: 0.1 }),
  noise: Object.freeze({ std: 0.1 }),
  erasing: Object.freeze({ p: 0.5, scale: [0.02, 0.2] as const }),
});

/** Height, width and channels of `shape`, checked. */
function shapeOf(
  fn: string,
  shape: ImageShape,
): { h: number; w: number; c: number } {
  const h = shape.height;
  const w = shape.width;
  const c = shape.channels ?? 1;
  for (const [name, v] of [
    ["height", h],
    ["width", w],
    ["channels", c],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new ShapeError(
        `${fn}: ${name} must be a positive integer, got ${v}`,
      );
    }
  }
  return { h, w, c };
}

/** The batch size of `images` for `shape`, checked. */
function batchOf(fn: string, images: Float32Array, shape: ImageShape): number {
  const { h, w, c } = shapeOf(fn, shape);
  const size = h * w * c;
  if (!(images instanceof Float32Array) || images.length % size !== 0) {
    throw new ShapeError(
      `${fn}: images must be a Float32Array of B × ${h} × ${w} × ${c} ` +
        `values, got ${images?.length} values`,
    );
  }
  return images.length / size;
}

/** Check an ordered range `[lo, hi]` with `min ≤ lo ≤ hi ≤ max`. */
function checkRange(
  fn: string,
  name: string,
  range: readonly [number, number],
  min: number,
  max: number,
): void {
  const ok =
    Array.isArray(range) &&
    range.length === 2 &&
    Number.isFinite(range[0]) &&
    Number.isFinite(range[1]) &&
    range[0] >= min &&
    range[0] <= range[1] &&
    range[1] <= max;
  if (!ok) {
    throw new ConfigError(
      `${fn}: ${name} must be a range [lo, hi] with ${min} ≤ lo ≤ hi ≤ ` +
        `${max}, got ${JSON.stringify(range)}`,
    );
  }
}

/** A uniform draw in `[lo, hi)`. */
function uniform(random: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * random();
}

/** A log-uniform draw in `[lo, hi]` (lo > 0). */
function logUniform(random: Random, lo: number, hi: number): number {
  return Math.exp(uniform(random, Math.log(lo), Math.log(hi)));
}

// ---------------------------------------------------------------------------
// Deterministic building blocks

/**
 * Resample every image of a batch through its inverse map: output pixel
 * (i, j) takes the bilinear interpolation of the input at
 * `(x_in, y_in) = (a j + b i + c, d j + e i + f)` with zeros outside the
 * image,
 *
 *   out = Σ_{p ∈ {x0, x0+1}, q ∈ {y0, y0+1}} (1 - |x_in - p|)
 *         (1 - |y_in - q|) · in[q, p],   x0 = ⌊x_in⌋, y0 = ⌊y_in⌋.
 *
 * Points that fall exactly on pixel centres copy those values exactly.
 *
 * @param images `[B, H, W(, C)]` float32, row-major.
 * @param maps `[B, 6]` inverse maps ({@link InverseMap}).
 * @returns a new `[B, H, W(, C)]` array.
 * @throws ShapeError when the sizes do not fit together.
 * @throws ConfigError for a map entry that is not finite.
 */
export function resampleImages(
  images: Float32Array,
  shape: ImageShape,
  maps: InverseMap,
): Float32Array {
  const fn = "resampleImages";
  const batch = batchOf(fn, images, shape);
  const { h, w, c } = shapeOf(fn, shape);
  if (maps.length !== 6 * batch) {
    throw new ShapeError(
      `${fn}: expected 6 map entries per image (${6 * batch}), got ` +
        `${maps.length}`,
    );
  }
  for (let k = 0; k < maps.length; k++) {
    if (!Number.isFinite(maps[k])) {
      throw new ConfigError(`${fn}: maps[${k}] must be finite, got ${maps[k]}`);
    }
  }
  const out = new Float32Array(images.length);
  const size = h * w * c;
  const rowStride = w * c;
  for (let n = 0; n < batch; n++) {
    const base = n * size;
    const a = maps[6 * n];
    const b = maps[6 * n + 1];
    const cc = maps[6 * n + 2];
    const d = maps[6 * n + 3];
    const e = maps[6 * n + 4];
    const f = maps[6 * n + 5];
    let o = base;
    for (let i = 0; i < h; i++) {
      const rowX = b * i + cc;
      const rowY = e * i + f;
      for (let j = 0; j < w; j++, o += c) {
        const xs = a * j + rowX;
        const ys = d * j + rowY;
        const x0 = Math.floor(xs);
        const y0 = Math.floor(ys);

        // NOTE: a point farther than one pixel outside reads only zeros
        if (x0 < -1 || x0 >= w || y0 < -1 || y0 >= h) continue;
        const fx = xs - x0;
        const fy = ys - y0;
        const w00 = (1 - fx) * (1 - fy);
        const w01 = fx * (1 - fy);
        const w10 = (1 - fx) * fy;
        const w11 = fx * fy;
        const p00 = base + y0 * rowStride + x0 * c;
        const p10 = p00 + rowStride;

        // most points have all four neighbours inside: no checks there
        if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
          for (let k = 0; k < c; k++) {
            out[o + k] =
              w00 * images[p00 + k] +
              w01 * images[p00 + c + k] +
              w10 * images[p10 + k] +
              w11 * images[p10 + c + k];
          }
          continue;
        }
        const inX0 = x0 >= 0;
        const inX1 = x0 + 1 < w;
        const inY0 = y0 >= 0;
        const inY1 = y0 + 1 < h;
        for (let k = 0; k < c; k++) {
          let v = 0;
          if (inY0) {
            if (inX0) v += w00 * images[p00 + k];
            if (inX1) v += w01 * images[p00 + c + k];
          }
          if (inY1) {
            if (inX0) v += w10 * images[p10 + k];
            if (inX1) v += w11 * images[p10 + c + k];
          }
          out[o + k] = v;
        }
      }
    }
  }
  return out;
}

/**
 * The inverse map that crops `box` and resizes it to the whole image
 * (pixel centres, no corner alignment, as `align_corners = false`):
 * `y_in = top + (i + 1/2) · boxHeight / H - 1/2`, likewise for x. The box
 * `{0, 0, H, W}` gives the identity.
 */
export function cropMap(box: CropBox, shape: ImageShape): InverseMap {
  const { h, w } = shapeOf("cropMap", shape);
  const sx = box.width / w;
  const sy = box.height / h;
  return Float64Array.of(
    sx,
    0,
    box.left + 0.5 * sx - 0.5,
    0,
    sy,
    box.top + 0.5 * sy - 0.5,
  );
}

/**
 * The inverse map of an affine transform about the image centre
 * `(cx, cy) = ((W - 1) / 2, (H - 1) / 2)`: the content is zoomed by `s`,
 * rotated by θ counter-clockwise as displayed, then shifted by
 * `(tx, ty)`. Its inverse reads
 *
 *   x_in = cx + ( cos θ · u - sin θ · v) / s,
 *   y_in = cy + ( sin θ · u + cos θ · v) / s,
 *   u = x - cx - tx,  v = y - cy - ty.
 *
 * With θ = 90° on a square image, `out[i][j] = in[j][W - 1 - i]`.
 */
export function affineMap(params: AffineParams, shape: ImageShape): InverseMap {
  const fn = "affineMap";
  const { h, w } = shapeOf(fn, shape);
  const { angle, translateX, translateY, scale } = params;
  if (!(scale > 0 && Number.isFinite(scale))) {
    throw new ConfigError(`${fn}: scale must be positive, got ${scale}`);
  }
  if (![angle, translateX, translateY].every(Number.isFinite)) {
    throw new ConfigError(
      `${fn}: angle and translations must be finite, got ` +
        `${angle}, ${translateX}, ${translateY}`,
    );
  }
  const theta = (angle * Math.PI) / 180;
  const cos = Math.cos(theta) / scale;
  const sin = Math.sin(theta) / scale;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const u0 = -cx - translateX;
  const v0 = -cy - translateY;
  return Float64Array.of(
    cos,
    -sin,
    cx + cos * u0 - sin * v0,
    sin,
    cos,
    cy + sin * u0 + cos * v0,
  );
}

/**
 * The composition `first ∘ second` of two batches of inverse maps: an
 * output point goes through `second`, then through `first`. Resampling
 * through it equals cropping with `first`'s transform and then applying
 * `second`'s, except that no zeros enter at the intermediate border.
 */
export function composeMaps(first: InverseMap, second: InverseMap): InverseMap {
  if (first.length !== second.length || first.length % 6 !== 0) {
    throw new ShapeError(
      `composeMaps: expected two batches of 6-number maps of equal size, ` +
        `got ${first.length} and ${second.length}`,
    );
  }
  const out = new Float64Array(first.length);
  for (let n = 0; n < first.length; n += 6) {
    const [a1, b1, c1, d1, e1, f1] = first.subarray(n, n + 6);
    const [a2, b2, c2, d2, e2, f2] = second.subarray(n, n + 6);
    out[n] = a1 * a2 + b1 * d2;
    out[n + 1] = a1 * b2 + b1 * e2;
    out[n + 2] = a1 * c2 + b1 * f2 + c1;
    out[n + 3] = d1 * a2 + e1 * d2;
    out[n + 4] = d1 * b2 + e1 * e2;
    out[n + 5] = d1 * c2 + e1 * f2 + f1;
  }
  return out;
}

/** Set the boxes' rectangles of `out` to `value`, in place. */
function eraseInPlace(
  out: Float32Array,
  shape: ImageShape,
  boxes: Int32Array,
  value: number,
): void {
  const fn = "eraseRectangles";
  const { h, w, c } = shapeOf(fn, shape);
  const batch = boxes.length / 4;
  for (let n = 0; n < batch; n++) {
    const top = boxes[4 * n];
    const left = boxes[4 * n + 1];
    const bh = boxes[4 * n + 2];
    const bw = boxes[4 * n + 3];
    if (bh === 0 || bw === 0) continue;
    if (!(top >= 0 && left >= 0 && bh > 0 && bw > 0)) {
      throw new ShapeError(
        `${fn}: box ${n} [${top}, ${left}, ${bh}, ${bw}] must have ` +
          `non-negative corner and sizes`,
      );
    }
    if (top + bh > h || left + bw > w) {
      throw new ShapeError(
        `${fn}: box ${n} [${top}, ${left}, ${bh}, ${bw}] must lie inside ` +
          `the ${h} × ${w} image`,
      );
    }
    for (let i = top; i < top + bh; i++) {
      const start = ((n * h + i) * w + left) * c;
      out.fill(value, start, start + bw * c);
    }
  }
}

/**
 * Write `value` into a whole-pixel rectangle of each image (all
 * channels). Boxes are `[top, left, height, width]`, four integers per
 * image; a box of height or width 0 leaves its image unchanged.
 *
 * @returns a new array; the input is not modified.
 * @throws ShapeError for a box count that does not match the batch or a
 * box outside the image.
 */
export function eraseRectangles(
  images: Float32Array,
  shape: ImageShape,
  boxes: Int32Array,
  value = 0,
): Float32Array {
  const fn = "eraseRectangles";
  const batch = batchOf(fn, images, shape);
  if (boxes.length !== 4 * batch) {
    throw new ShapeError(
      `${fn}: expected 4 box entries per image (${4 * batch}), got ` +
        `${boxes.length}`,
    );
  }
  const out = images.slice();
  eraseInPlace(out, shape, boxes, value);
  return out;
}

// ---------------------------------------------------------------------------
// Random parameters

/** Crop options with defaults filled in, checked. */
function cropSettings(options: RandomResizedCropOptions) {
  const fn = "randomResizedCrop";
  const scale = options.scale ?? [0.6, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  checkRange(fn, "scale", scale, Number.MIN_VALUE, 1);
  checkRange(fn, "ratio", ratio, Number.MIN_VALUE, Infinity);
  return { scale, ratio };
}

/** Affine options with defaults filled in, checked. */
function affineSettings(options: RandomAffineOptions) {
  const fn = "randomAffine";
  const d = options.degrees ?? 15;
  const degrees: readonly [number, number] =
    typeof d === "number" ? [-d, d] : d;
  const translate = options.translate ?? 0.1;
  const scale = options.scale ?? [1, 1];
  checkRange(fn, "degrees", degrees, -Infinity, Infinity);
  if (!(translate >= 0 && translate <= 1)) {
    throw new ConfigError(
      `${fn}: translate must lie in [0, 1], got ${translate}`,
    );
  }
  checkRange(fn, "scale", scale, Number.MIN_VALUE, Infinity);
  return { degrees, translate, scale };
}

/** Erasing options with defaults filled in, checked. */
function erasingSettings(options: RandomErasingOptions) {
  const fn = "randomErasing";
  const p = options.p ?? 0.5;
  const scale = options.scale ?? [0.02, 0.2];
  const ratio = options.ratio ?? [0.3, 3.3];
  const value = options.value ?? 0;
  if (!(p >= 0 && p <= 1)) {
    throw new ConfigError(`${fn}: p must lie in [0, 1], got ${p}`);
  }
  checkRange(fn, "scale", scale, 0, 1);
  checkRange(fn, "ratio", ratio, Number.MIN_VALUE, Infinity);
  if (!Number.isFinite(value)) {
    throw new ConfigError(`${fn}: value must be finite, got ${value}`);
  }
  return { p, scale, ratio, value };
}

/** Noise options with defaults filled in, checked. */
function noiseSettings(options: GaussianNoiseOptions) {
  const std = options.std ?? 0.1;
  if (!(std >= 0 && Number.isFinite(std))) {
    throw new ConfigError(
      `gaussianNoise: std must be finite and ≥ 0, got ${std}`,
    );
  }
  return { std, clip: options.clip ?? false };
}

/** A checked batch size. */
function checkBatch(fn: string, batch: number): void {
  if (!Number.isInteger(batch) || batch < 0) {
    throw new ConfigError(
      `${fn}: batch must be a non-negative integer, got ${batch}`,
    );
  }
}

/**
 * Draw one crop box per image as torchvision's `RandomResizedCrop`: an
 * area fraction uniform in `scale` and an aspect ratio log-uniform in
 * `ratio` give a box `√(area / r)` high and `√(area · r)` wide, placed
 * uniformly; after 10 draws that do not fit, the whole image is used.
 * Sizes are not rounded to whole pixels.
 *
 * @returns `[B, 6]` inverse maps (see {@link cropMap}).
 */
export function sampleCropMaps(
  batch: number,
  shape: ImageShape,
  options: RandomResizedCropOptions,
  random: Random,
): InverseMap {
  const fn = "randomResizedCrop";
  checkBatch(fn, batch);
  const { h, w } = shapeOf(fn, shape);
  const { scale, ratio } = cropSettings(options);
  const maps = new Float64Array(6 * batch);
  for (let n = 0; n < batch; n++) {
    let box: CropBox = { top: 0, left: 0, height: h, width: w };
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = uniform(random, scale[0], scale[1]) * h * w;
      const r = logUniform(random, ratio[0], ratio[1]);
      const bh = Math.sqrt(area / r);
      const bw = Math.sqrt(area * r);
      if (bh <= h && bw <= w) {
        const top = uniform(random, 0, h - bh);
        const left = uniform(random, 0, w - bw);
        box = { top, left, height: bh, width: bw };
        break;
      }
    }
    maps.set(cropMap(box, shape), 6 * n);
  }
  return maps;
}

/**
 * Draw one affine transform per image: angle uniform in `degrees`,
 * shifts uniform in `[-t W, t W]` and `[-t H, t H]`, zoom uniform in
 * `scale`; four uniforms per image.
 *
 * @returns `[B, 6]` inverse maps (see {@link affineMap}).
 */
export function sampleAffineMaps(
  batch: number,
  shape: ImageShape,
  options: RandomAffineOptions,
  random: Random,
): InverseMap {
  const fn = "randomAffine";
  checkBatch(fn, batch);
  const { h, w } = shapeOf(fn, shape);
  const { degrees, translate, scale } = affineSettings(options);
  const maps = new Float64Array(6 * batch);
  for (let n = 0; n < batch; n++) {
    const params: AffineParams = {
      angle: uniform(random, degrees[0], degrees[1]),
      translateX: uniform(random, -translate * w, translate * w),
      translateY: uniform(random, -translate * h, translate * h),
      scale: uniform(random, scale[0], scale[1]),
    };
    maps.set(affineMap(params, shape), 6 * n);
  }
  return maps;
}

/**
 * Draw one erasing rectangle per image, as torchvision's `RandomErasing`:
 * with probability `p` an area fraction uniform in `scale` and a ratio
 * log-uniform in `ratio` give a box of `round(√(area / r))` ×
 * `round(√(area · r))` whole pixels, placed uniformly; after 10 draws that
 * do not fit, nothing is erased.
 *
 * @returns `[B, 4]` boxes `[top, left, height, width]`, zeros for none.
 */
export function sampleErasingBoxes(
  batch: number,
  shape: ImageShape,
  options: RandomErasingOptions,
  random: Random,
): Int32Array {
  const fn = "randomErasing";
  checkBatch(fn, batch);
  const { h, w } = shapeOf(fn, shape);
  const { p, scale, ratio } = erasingSettings(options);
  const boxes = new Int32Array(4 * batch);
  for (let n = 0; n < batch; n++) {
    if (random() >= p) continue;
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = uniform(random, scale[0], scale[1]) * h * w;
      const r = logUniform(random, ratio[0], ratio[1]);
      const bh = Math.round(Math.sqrt(area / r));
      const bw = Math.round(Math.sqrt(area * r));
      if (bh >= 1 && bw >= 1 && bh <= h && bw <= w) {
        const top = Math.floor(random() * (h - bh + 1));
        const left = Math.floor(random() * (w - bw + 1));
        boxes.set([top, left, bh, bw], 4 * n);
        break;
      }
    }
  }
  return boxes;
}

// ---------------------------------------------------------------------------
// Augmentations

/**
 * Random resized crop: each image is cropped to a random box (see
 * {@link sampleCropMaps}) and resized back to H × W by bilinear sampling.
 *
 * @throws ConfigError or ShapeError for invalid options, at construction.
 */
export function randomResizedCrop(
  shape: ImageShape,
  options: RandomResizedCropOptions = {},
): ImageAugmentation {
  const fn = "randomResizedCrop";
  shapeOf(fn, shape);
  cropSettings(options);
  return (images, random) => {
    const batch = batchOf(fn, images, shape);
    const maps = sampleCropMaps(batch, shape, options, random);
    return resampleImages(images, shape, maps);
  };
}

/**
 * Random affine transform about the image centre (rotation, shift, zoom;
 * see {@link sampleAffineMaps}), bilinear with zero padding.
 *
 * LIMITATION: there is no shear; torchvision's `shear` option has no
 * counterpart here.
 *
 * @throws ConfigError or ShapeError for invalid options, at construction.
 */
export function randomAffine(
  shape: ImageShape,
  options: RandomAffineOptions = {},
): ImageAugmentation {
  const fn = "randomAffine";
  shapeOf(fn, shape);
  affineSettings(options);
  return (images, random) => {
    const batch = batchOf(fn, images, shape);
    const maps = sampleAffineMaps(batch, shape, options, random);
    return resampleImages(images, shape, maps);
  };
}

/** Add N(0, std²) noise to every value of `out` in place. */
function addNoise(
  out: Float32Array,
  std: number,
  clip: boolean,
  random: Random,
): void {
  // NOTE: Marsaglia's polar method, both outputs used: a point (u, v)
  // uniform in the unit disc gives two independent normals
  // u·m and v·m with m = √(-2 ln s / s), s = u² + v², and no sine or
  // cosine (twice as fast as Box–Muller here)
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * random() - 1;
      v = 2 * random() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = std * Math.sqrt((-2 * Math.log(s)) / s);
    out[i] += u * m;
    if (i + 1 < n) out[i + 1] += v * m;
  }
  if (clip) {
    for (let i = 0; i < n; i++) {
      const v = out[i];
      out[i] = Math.min(Math.max(v, 0), 1);
    }
  }
}

/**
 * Additive Gaussian noise `x + ε`, ε ~ N(0, std²) independently per
 * value; `std` defaults to 0.1, and with `clip` (default false) results
 * are clipped to [0, 1].
 *
 * @throws ConfigError for a negative or infinite `std`.
 */
export function gaussianNoise(
  options: GaussianNoiseOptions = {},
): ImageAugmentation {
  const { std, clip } = noiseSettings(options);
  return (images, random) => {
    const out = images.slice();
    addNoise(out, std, clip, random);
    return out;
  };
}

/**
 * Random erasing (Zhong et al. 2020): with probability `p`, a random
 * rectangle of each image is set to `value` (see
 * {@link sampleErasingBoxes}).
 *
 * @throws ConfigError or ShapeError for invalid options, at construction.
 */
export function randomErasing(
  shape: ImageShape,
  options: RandomErasingOptions = {},
): ImageAugmentation {
  const fn = "randomErasing";
  shapeOf(fn, shape);
  const { value } = erasingSettings(options);
  return (images, random) => {
    const batch = batchOf(fn, images, shape);
    const boxes = sampleErasingBoxes(batch, shape, options, random);
    return eraseRectangles(images, shape, boxes, value);
  };
}

/**
 * The composed augmentation of `spec` for images of `shape`: crop and
 * affine maps are drawn per image and fused into one bilinear resampling
 * (see {@link composeMaps}), then noise is added and rectangles erased.
 * Draw order per call: all crops, all affine maps, all noise, all
 * erasing boxes, so a seed fixes the whole batch. The result equals
 * applying {@link randomResizedCrop}, {@link randomAffine},
 * {@link gaussianNoise} and {@link randomErasing} in turn with the same
 * random source, except that the fused resampling interpolates once and
 * shows the image around a crop where the affine map reaches past it.
 *
 * @throws ConfigError or ShapeError for invalid options, at construction.
 */
export function imageAugmentation(
  spec: ImageAugmentationSpec,
  shape: ImageShape,
): ImageAugmentation {
  const fn = "imageAugmentation";
  shapeOf(fn, shape);
  const { crop, affine, noise, erasing } = spec;

  // check every option once, before the first batch
  if (crop) cropSettings(crop);
  if (affine) affineSettings(affine);
  const noiseSetting = noise ? noiseSettings(noise) : null;
  const erasingSetting = erasing ? erasingSettings(erasing) : null;

  return (images, random) => {
    const batch = batchOf(fn, images, shape);

    // geometric part: one resampling through the fused maps
    let maps: InverseMap | null = null;
    if (crop) maps = sampleCropMaps(batch, shape, crop, random);
    if (affine) {
      const a = sampleAffineMaps(batch, shape, affine, random);
      maps = maps === null ? a : composeMaps(maps, a);
    }
    const out =
      maps === null ? images.slice() : resampleImages(images, shape, maps);

    // pointwise part: noise, then erasing, both in place
    if (noiseSetting !== null) {
      addNoise(out, noiseSetting.std, noiseSetting.clip, random);
    }
    if (erasing && erasingSetting !== null) {
      const boxes = sampleErasingBoxes(batch, shape, erasing, random);
      eraseInPlace(out, shape, boxes, erasingSetting.value);
    }
    return out;
  };
}
