import type { StateDict, Tensor, TensorSource } from "@fcclip/tensor-core";

/** What a tower loads from: tensors by key, and the key list and shapes its sizes are read from. */
export type VisualWeights = TensorSource & Pick<StateDict, "keys" | "info">;

/** The feature maps FC-CLIP takes from a CLIP trunk (`CLIP.extract_features_*`), all NCHW. */
export interface DenseFeatures {
  /** strides 4, 8, 16, 32 */
  res2: Tensor;
  res3: Tensor;
  res4: Tensor;
  res5: Tensor;
  /** What the out-of-vocabulary classifier pools: res5 itself for both families (ConvNeXt's norm_pre is the identity). */
  clip_vis_dense: Tensor;
}

export type VisualFamily = "convnext" | "resnet";

/** Sizes read off the weights: enough to list every key and shape, and to size buffers. */
export interface VisualShape {
  family: VisualFamily;
  /** Channels of res2..res5. */
  dims: number[];
  /** Blocks per stage. */
  depths: number[];
  /** The CLIP embedding width the image head projects to. */
  embedDim: number;
}

/** Byte sizes a trunk needs from the adapter at a padded input size. */
export interface BufferNeeds {
  /** The largest buffer it allocates. */
  maxBufferSize: number;
  /** The largest buffer an op binds whole (ops that cannot split their bindings). */
  maxStorageBufferBindingSize: number;
}

/**
 * A CLIP image tower as FC-CLIP and zero-shot classification use it. Each family (convnext/, resnet/) implements it;
 * `loadVisualBackbone` picks one from the weights.
 */
export interface VisualBackbone {
  readonly shape: VisualShape;
  /** The input side `encodeImage` expects (open_clip's image_size: 320 for convnext_large_d_320, 224 for RN50). */
  readonly imageSize: number;
  /** res2..res5 and clip_vis_dense for a normalised [N, 3, H, W] image. */
  denseFeatures(x: Tensor): DenseFeatures;
  /** open_clip's encode_image → [N, embed_dim], un-normalised. */
  encodeImage(x: Tensor): Tensor;
  /**
   * FC-CLIP's out-of-vocabulary embeddings (`visual_prediction_forward`): one per mask, from clip_vis_dense [1, C, h, w]
   * and mask logits at that resolution [1, Q, h, w] → [Q, embed_dim], un-normalised. A pixel belongs to a mask where
   * its logit is > 0.
   */
  maskEmbeddings(clipVisDense: Tensor, maskLogits: Tensor): Promise<MaskEmbeddings>;
  dispose(): void;
}

export interface MaskEmbeddings {
  embeddings: Tensor;
  /** The mask-pooled trunk features before the head, when the family has such a stage (ConvNeXt). */
  pooled?: Tensor;
  /** Per mask, 1 if it has a pixel with logit > 0, when the family reads the masks anyway (ResNet). */
  nonEmpty?: Uint8Array;
}

/** How many bytes a trunk needs at a padded H×W input. */
export function trunkBufferNeeds(shape: VisualShape, H: number, W: number): BufferNeeds {
  const quarter = Math.ceil(H / 4) * Math.ceil(W / 4);
  const c0 = shape.dims[0]!;
  // ConvNeXt's stage-1 MLP hidden map is 4·C0 wide and split by matmul; its depthwise conv binds a C0 map whole.
  // A ResNet's largest map is res2 (4·width channels), which elementwise ops split; the stem's first conv (27-deep,
  // the direct kernel) binds its output whole: width/2 channels at stride 2, i.e. half of res2's bytes.
  return shape.family === "convnext"
    ? { maxBufferSize: 4 * c0 * quarter * 4, maxStorageBufferBindingSize: c0 * quarter * 4 }
    : { maxBufferSize: c0 * quarter * 4, maxStorageBufferBindingSize: (c0 / 2) * quarter * 4 };
}
