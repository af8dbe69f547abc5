/** The graph layer: the Graph type, builders, transforms, I/O, datasets. */

export * from "./builders.js";
export * from "./datasets/index.js";
export * from "./generators.js";
export * from "./graph.js";
export * from "./io.js";
export {
  type CSR,
  type ExtremeResult,
  edgeDot,
  type KernelInfo,
  kernelInfo,
  kernelThreads,
  segmentExtreme,
  setKernelThreads,
  spmm,
} from "./kernels.js";
export * from "./rewire/index.js";
export * from "./transforms.js";
