export type { DType } from "./dtype.js";
export { f16BitsToF32, f32ToF16Bits } from "./dtype.js";
export { Engine, type EngineOptions, type KernelFlavor } from "./engine.js";
export * from "./errors.js";
export { type ByteSource, blobSource, bytesSource, fileSource } from "./io/byte-source.js";
export { detectFormat, type WeightsFormat } from "./io/detect.js";
export { FormatError, LegacyCheckpointError, UnsafePickleError } from "./io/errors.js";
export { type HostTensor, numel, STORED_BYTES, type StoredDType, toFloat32, uploadHost } from "./io/host-tensor.js";
export {
  disposeParams,
  loadParams,
  type ParamLoader,
  paramLoader,
  type TensorSource,
} from "./io/params.js";
export { collectTensors, type StorageRef, TorchCheckpoint, TorchTensorRef } from "./io/pytorch/checkpoint.js";
export { torchScriptTensors } from "./io/pytorch/torchscript.js";
export { PyGlobal, PyRecord, type PyValue, type UnpickleHooks, unpickle } from "./io/pytorch/unpickle.js";
export {
  type SafetensorsEntry,
  SafetensorsFile,
  type SafetensorsWriteEntry,
  safetensorsChunks,
} from "./io/safetensors.js";
export { openStateDict, type StateDict } from "./io/state-dict.js";
export {
  type BufferBinding,
  FLAT_ID,
  grid,
  MAIN_1D,
  type Param,
  type ParamType,
  type Program,
  paramsStruct,
  storageDecls,
  WG1D,
} from "./kernel.js";
export { attentionMaskFromLogits } from "./ops/attention-mask-from-logits.js";
export { avgPool2d } from "./ops/avg-pool2d.js";
export { add, type BinaryOp, binary, div, maximum, minimum, mul, pow, sub } from "./ops/binary.js";
export { type Conv2dOptions, conv2d } from "./ops/conv2d.js";
export { cast, concat, fill, pad, permute, type SliceSpec, slice, transpose } from "./ops/copy.js";
export { embedding } from "./ops/embedding.js";
export { axisTable, type InterpolateOptions, interpolate } from "./ops/interpolate.js";
export { l2Normalize } from "./ops/l2-normalize.js";
export { maskPooling } from "./ops/mask-pooling.js";
export { maskStatistics } from "./ops/mask-statistics.js";
export { type MatmulOptions, matmul } from "./ops/matmul/index.js";
export { MatrixTexture } from "./ops/matrix-texture.js";
export { msDeformAttnSample } from "./ops/ms-deform-attn.js";
export { groupNorm, type LayerNormOptions, layerNorm } from "./ops/norm.js";
export { packPositiveBits } from "./ops/pack-positive-bits.js";
export { argmax, max, mean, type ReduceOp, reduce, sum, topk } from "./ops/reduce.js";
export { type ResizeCropGeometry, resizeCropResize } from "./ops/resize-crop-resize.js";
export { type AttentionOptions, attention, type SoftmaxOptions, softmax } from "./ops/softmax.js";
export { affine, gelu, relu, sigmoid, type UnaryOp, unary } from "./ops/unary.js";
export { weightedSigmoidArgmax } from "./ops/weighted-sigmoid-argmax.js";
export {
  type DispatchTiming,
  type KindSummary,
  opKind,
  Profile,
  type ProfileMode,
  type ProfileSummary,
  type ShapeSummary,
  type StageSummary,
  type StageTiming,
} from "./profile/profile.js";
export { broadcastShapes, contiguousStrides, type Shape, sizeOf } from "./shape.js";
export { Tensor } from "./tensor.js";
export type { Activation } from "./wgsl/erf.js";
export { EXP_WGSL } from "./wgsl/exp.js";
