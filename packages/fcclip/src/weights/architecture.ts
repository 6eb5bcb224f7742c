import type { VisualFamily } from "@fcclip/clip";
import type { TextActivation } from "@fcclip/text-encoder";
import { WeightsMismatchError } from "./errors.js";

/**
 * Everything that fixes the shapes of an FC-CLIP model (FCCLIP-SPEC §8.3; §2.4 for the ResNet CLIPs), plus the head
 * counts that the weights cannot tell (they come from the config, with the official defaults).
 */
export interface FcclipArchitecture {
  clip: {
    /** The image tower: a ConvNeXt, or OpenAI's ModifiedResNet (bundles written before ResNet support: absent). */
    family?: VisualFamily;
    /**
     * res2..res5 channels and blocks per stage (convnext_large_d_320: [192, 384, 768, 1536], [3, 3, 27, 3]; RN50:
     * [256, 512, 1024, 2048], [3, 4, 6, 3]).
     */
    dims: number[];
    depths: number[];
    /** ResNet only: the attention pool's positional grid side (image_size / 32: 7 for RN50). */
    attnpoolGrid?: number;
    /** CLIP embedding width (768). */
    embedDim: number;
    textWidth: number;
    textLayers: number;
    /** open_clip text_cfg.heads (12 for convnext_large_d_320): width/64 unless the config says otherwise. */
    textHeads: number;
    /** The text MLP's activation: OpenAI's weights (the ResNet CLIPs) are loaded with quick_gelu. Absent: gelu. */
    textActivation?: TextActivation;
    contextLength: number;
    vocabSize: number;
  };
  pixelDecoder: {
    /** MODEL.SEM_SEG_HEAD.CONVS_DIM / MASK_DIM (256). */
    convDim: number;
    maskDim: number;
    encoderLayers: number;
    /** MODEL.MASK_FORMER.NHEADS (8) and the deformable points (4, fixed in the code). */
    heads: number;
    points: number;
    /** The deformable encoder FFN is 1024 in the official code, whatever DIM_FEEDFORWARD says. */
    ffnDim: number;
  };
  decoder: {
    hiddenDim: number;
    numQueries: number;
    /** Built layers = DEC_LAYERS − 1 (9 for the official DEC_LAYERS 10). */
    layers: number;
    heads: number;
    ffnDim: number;
  };
  /** criterion.empty_weight length − 1 when present (training classes), else null. */
  trainNumClasses: number | null;
}

/** The CLIP of OpenAI's ResNet models (open_clip's configs; FCCLIP-SPEC §2.4, docs/resnet-clip.md). */
export const OPENAI_RESNET_CLIPS = {
  RN50: { width: 64, layers: [3, 4, 6, 3], grid: 7, embedDim: 1024, textWidth: 512 },
  RN101: { width: 64, layers: [3, 4, 23, 3], grid: 7, embedDim: 512, textWidth: 512 },
  RN50x4: { width: 80, layers: [4, 6, 10, 6], grid: 9, embedDim: 640, textWidth: 640 },
  RN50x16: { width: 96, layers: [6, 8, 18, 8], grid: 12, embedDim: 768, textWidth: 768 },
  RN50x64: { width: 128, layers: [3, 15, 36, 10], grid: 14, embedDim: 1024, textWidth: 1024 },
} as const;

/** `heads` with its CLIP replaced by one of OpenAI's ResNet CLIPs (12 text layers, context 77, 49,408 tokens). */
export function withOpenAiResNetClip(
  heads: FcclipArchitecture,
  name: keyof typeof OPENAI_RESNET_CLIPS,
): FcclipArchitecture {
  const c = OPENAI_RESNET_CLIPS[name];
  return {
    ...heads,
    clip: {
      family: "resnet",
      dims: [4, 8, 16, 32].map((m) => m * c.width),
      depths: [...c.layers],
      attnpoolGrid: c.grid,
      embedDim: c.embedDim,
      textWidth: c.textWidth,
      textLayers: 12,
      textHeads: c.textWidth / 64,
      textActivation: "quick_gelu",
      contextLength: 77,
      vocabSize: 49408,
    },
  };
}

/** Head counts and points that shapes cannot tell. */
export interface ArchitectureConfig {
  heads?: number;
  points?: number;
  textHeads?: number;
}

/** MODEL.MASK_FORMER.NHEADS and the deformable points of the official configs. */
export const OFFICIAL_HEADS = { heads: 8, points: 4 } as const;

/** Every released open_clip CLIP uses 64-wide text attention heads (512→8, 768→12, 1024→16). */
function textHeadsFor(width: number, given: number | undefined): number {
  if (given !== undefined) return given;
  if (width % 64 === 0 && width > 0) return width / 64;
  throw new WeightsMismatchError(
    [],
    [],
    [],
    `the text tower is ${width} wide, so its head count cannot be inferred (open_clip uses width/64); pass it from the open_clip model config (text_cfg.heads)`,
  );
}

type Shapes = ReadonlyMap<string, readonly number[]>;

const CLIP = "backbone.clip_model.";
const VISUAL = `${CLIP}visual.`;
const TRUNK = `${VISUAL}trunk.`;
const PD = "sem_seg_head.pixel_decoder.";
const TD = "sem_seg_head.predictor.";

function countIndexed(shapes: Shapes, prefix: string): number {
  let n = 0;
  for (const k of shapes.keys()) {
    if (!k.startsWith(prefix)) continue;
    const m = /^(\d+)\./.exec(k.slice(prefix.length));
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** Reads the architecture off the weights' shapes; throws WeightsMismatchError naming the keys it needed. */
export function inferArchitecture(shapes: Shapes, config: ArchitectureConfig = {}): FcclipArchitecture {
  const missing: string[] = [];
  const shape = (key: string): readonly number[] => {
    const s = shapes.get(key);
    if (!s) missing.push(key);
    return s ?? [0, 0, 0, 0];
  };
  const family: VisualFamily = [...shapes.keys()].some((k) => k.startsWith(`${VISUAL}layer1.`)) ? "resnet" : "convnext";
  const dims: number[] = [];
  const depths: number[] = [];
  let attnpoolGrid: number | undefined;
  if (family === "convnext") {
    const stages = countIndexed(shapes, `${TRUNK}stages.`);
    for (let s = 0; s < Math.max(stages, 1); s++) {
      dims.push(shape(`${TRUNK}stages.${s}.blocks.0.gamma`)[0]!);
      depths.push(countIndexed(shapes, `${TRUNK}stages.${s}.blocks.`));
    }
  } else {
    const width = shape(`${VISUAL}conv3.weight`)[0]!;
    for (let i = 0; i < 4; i++) {
      dims.push(width * 4 * 2 ** i);
      depths.push(countIndexed(shapes, `${VISUAL}layer${i + 1}.`));
    }
    attnpoolGrid = Math.round(Math.sqrt(shape(`${VISUAL}attnpool.positional_embedding`)[0]! - 1));
  }
  const [contextLength, textWidth] = shape(`${CLIP}positional_embedding`) as [number, number];
  const embedDim = shape(`${CLIP}text_projection`)[1]!;
  const vocabSize = shape(`${CLIP}token_embedding.weight`)[0]!;
  const [convDim] = shape(`${PD}transformer.level_embed`).slice(1);
  const maskDim = shape(`${PD}mask_features.weight`)[0]!;
  const ffnPd = shape(`${PD}transformer.encoder.layers.0.linear1.weight`)[0]!;
  const [numQueries, hiddenDim] = shape(`${TD}query_feat.weight`) as [number, number];
  const ffnDec = shape(`${TD}transformer_ffn_layers.0.linear1.weight`)[0]!;
  if (missing.length) {
    throw new WeightsMismatchError(
      missing,
      [],
      [],
      "These keys fix the model's sizes; pass the FC-CLIP checkpoint and, if it has no backbone.clip_model.* keys, the open_clip weights too",
    );
  }
  const empty = shapes.get("criterion.empty_weight");
  return {
    clip: {
      family,
      dims,
      depths,
      ...(attnpoolGrid === undefined ? {} : { attnpoolGrid }),
      embedDim,
      textWidth,
      textLayers: countIndexed(shapes, `${CLIP}transformer.resblocks.`),
      textHeads: textHeadsFor(textWidth, config.textHeads),
      textActivation: family === "resnet" ? "quick_gelu" : "gelu",
      contextLength,
      vocabSize,
    },
    pixelDecoder: {
      convDim: convDim!,
      maskDim,
      encoderLayers: countIndexed(shapes, `${PD}transformer.encoder.layers.`),
      heads: config.heads ?? OFFICIAL_HEADS.heads,
      points: config.points ?? OFFICIAL_HEADS.points,
      ffnDim: ffnPd,
    },
    decoder: {
      hiddenDim,
      numQueries,
      layers: countIndexed(shapes, `${TD}transformer_self_attention_layers.`),
      heads: config.heads ?? OFFICIAL_HEADS.heads,
      ffnDim: ffnDec,
    },
    trainNumClasses: empty ? empty[0]! - 1 : null,
  };
}

type Add = (k: string, s: number[]) => void;

/** The timm ConvNeXt trunk and open_clip's NormMlp head (FCCLIP-SPEC §8.3). */
function convnextShapes(a: FcclipArchitecture, add: Add): void {
  const { dims, depths, embedDim: E } = a.clip;
  add(`${TRUNK}stem.0.weight`, [dims[0]!, 3, 4, 4]);
  add(`${TRUNK}stem.0.bias`, [dims[0]!]);
  add(`${TRUNK}stem.1.weight`, [dims[0]!]);
  add(`${TRUNK}stem.1.bias`, [dims[0]!]);
  dims.forEach((d, s) => {
    if (s > 0) {
      const p = dims[s - 1]!;
      add(`${TRUNK}stages.${s}.downsample.0.weight`, [p]);
      add(`${TRUNK}stages.${s}.downsample.0.bias`, [p]);
      add(`${TRUNK}stages.${s}.downsample.1.weight`, [d, p, 2, 2]);
      add(`${TRUNK}stages.${s}.downsample.1.bias`, [d]);
    }
    for (let b = 0; b < depths[s]!; b++) {
      const k = `${TRUNK}stages.${s}.blocks.${b}.`;
      add(`${k}gamma`, [d]);
      add(`${k}conv_dw.weight`, [d, 1, 7, 7]);
      add(`${k}conv_dw.bias`, [d]);
      add(`${k}norm.weight`, [d]);
      add(`${k}norm.bias`, [d]);
      add(`${k}mlp.fc1.weight`, [4 * d, d]);
      add(`${k}mlp.fc1.bias`, [4 * d]);
      add(`${k}mlp.fc2.weight`, [d, 4 * d]);
      add(`${k}mlp.fc2.bias`, [d]);
    }
  });
  const last = dims[dims.length - 1]!;
  add(`${TRUNK}head.norm.weight`, [last]);
  add(`${TRUNK}head.norm.bias`, [last]);
  add(`${CLIP}visual.head.mlp.fc1.weight`, [2 * E, last]);
  add(`${CLIP}visual.head.mlp.fc1.bias`, [2 * E]);
  add(`${CLIP}visual.head.mlp.fc2.weight`, [E, 2 * E]);
}

const BN_STATS = ["weight", "bias", "running_mean", "running_var"];

/**
 * OpenAI's ModifiedResNet and its attention pool (open_clip modified_resnet.py): bias-free convs, each followed by a
 * BatchNorm; a 1×1 shortcut conv in every layer's first block. `num_batches_tracked` is optional (see OPTIONAL_KEY).
 */
function resnetShapes(a: FcclipArchitecture, add: Add): void {
  const { dims, depths, embedDim: E } = a.clip;
  const w = dims[0]! / 4;
  const convBn = (conv: string, bn: string, co: number, ci: number, k: number) => {
    add(`${conv}.weight`, [co, ci, k, k]);
    for (const s of BN_STATS) add(`${bn}.${s}`, [co]);
  };
  convBn(`${VISUAL}conv1`, `${VISUAL}bn1`, w / 2, 3, 3);
  convBn(`${VISUAL}conv2`, `${VISUAL}bn2`, w / 2, w / 2, 3);
  convBn(`${VISUAL}conv3`, `${VISUAL}bn3`, w, w / 2, 3);
  let inplanes = w;
  depths.forEach((n, i) => {
    const planes = w * 2 ** i;
    for (let b = 0; b < n; b++) {
      const p = `${VISUAL}layer${i + 1}.${b}.`;
      convBn(`${p}conv1`, `${p}bn1`, planes, inplanes, 1);
      convBn(`${p}conv2`, `${p}bn2`, planes, planes, 3);
      convBn(`${p}conv3`, `${p}bn3`, planes * 4, planes, 1);
      if (b === 0) convBn(`${p}downsample.0`, `${p}downsample.1`, planes * 4, inplanes, 1);
      inplanes = planes * 4;
    }
  });
  const C = dims[3]!;
  const g = a.clip.attnpoolGrid ?? 7;
  add(`${VISUAL}attnpool.positional_embedding`, [g * g + 1, C]);
  for (const p of ["k_proj", "q_proj", "v_proj"]) {
    add(`${VISUAL}attnpool.${p}.weight`, [C, C]);
    add(`${VISUAL}attnpool.${p}.bias`, [C]);
  }
  add(`${VISUAL}attnpool.c_proj.weight`, [E, C]);
  add(`${VISUAL}attnpool.c_proj.bias`, [E]);
}

/**
 * Keys that may be present or not: BatchNorm's step counter (in open_clip and OpenAI state dicts, unused at
 * inference), the scalars OpenAI's TorchScript files keep beside the weights, and the training criterion's weights.
 */
export const OPTIONAL_KEY =
  /(\.num_batches_tracked|^backbone\.clip_model\.(input_resolution|context_length|vocab_size)|^criterion\.empty_weight)$/;

/** Every state-dict key of the architecture with its shape (FCCLIP-SPEC §8.3), in the order of model.state_dict(). */
export function expectedShapes(a: FcclipArchitecture): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const add = (k: string, s: number[]) => out.set(k, s);
  const { dims, embedDim: E, textWidth: W } = a.clip;
  // CLIP text tower and logit scale.
  add(`${CLIP}positional_embedding`, [a.clip.contextLength, W]);
  add(`${CLIP}text_projection`, [W, E]);
  add(`${CLIP}logit_scale`, []);
  if ((a.clip.family ?? "convnext") === "convnext") convnextShapes(a, add);
  else resnetShapes(a, add);
  for (let i = 0; i < a.clip.textLayers; i++) {
    const k = `${CLIP}transformer.resblocks.${i}.`;
    add(`${k}ln_1.weight`, [W]);
    add(`${k}ln_1.bias`, [W]);
    add(`${k}attn.in_proj_weight`, [3 * W, W]);
    add(`${k}attn.in_proj_bias`, [3 * W]);
    add(`${k}attn.out_proj.weight`, [W, W]);
    add(`${k}attn.out_proj.bias`, [W]);
    add(`${k}ln_2.weight`, [W]);
    add(`${k}ln_2.bias`, [W]);
    add(`${k}mlp.c_fc.weight`, [4 * W, W]);
    add(`${k}mlp.c_fc.bias`, [4 * W]);
    add(`${k}mlp.c_proj.weight`, [W, 4 * W]);
    add(`${k}mlp.c_proj.bias`, [W]);
  }
  add(`${CLIP}token_embedding.weight`, [a.clip.vocabSize, W]);
  add(`${CLIP}ln_final.weight`, [W]);
  add(`${CLIP}ln_final.bias`, [W]);

  // Pixel decoder: input projections read res5, res4, res3.
  const { convDim: C, maskDim: Md, heads: H, points: P } = a.pixelDecoder;
  const L = 3;
  for (let l = 0; l < L; l++) {
    const inCh = dims[dims.length - 1 - l]!;
    add(`${PD}input_proj.${l}.0.weight`, [C, inCh, 1, 1]);
    add(`${PD}input_proj.${l}.0.bias`, [C]);
    add(`${PD}input_proj.${l}.1.weight`, [C]);
    add(`${PD}input_proj.${l}.1.bias`, [C]);
  }
  add(`${PD}transformer.level_embed`, [L, C]);
  for (let i = 0; i < a.pixelDecoder.encoderLayers; i++) {
    const k = `${PD}transformer.encoder.layers.${i}.`;
    add(`${k}self_attn.sampling_offsets.weight`, [H * L * P * 2, C]);
    add(`${k}self_attn.sampling_offsets.bias`, [H * L * P * 2]);
    add(`${k}self_attn.attention_weights.weight`, [H * L * P, C]);
    add(`${k}self_attn.attention_weights.bias`, [H * L * P]);
    add(`${k}self_attn.value_proj.weight`, [C, C]);
    add(`${k}self_attn.value_proj.bias`, [C]);
    add(`${k}self_attn.output_proj.weight`, [C, C]);
    add(`${k}self_attn.output_proj.bias`, [C]);
    add(`${k}norm1.weight`, [C]);
    add(`${k}norm1.bias`, [C]);
    add(`${k}linear1.weight`, [a.pixelDecoder.ffnDim, C]);
    add(`${k}linear1.bias`, [a.pixelDecoder.ffnDim]);
    add(`${k}linear2.weight`, [C, a.pixelDecoder.ffnDim]);
    add(`${k}linear2.bias`, [C]);
    add(`${k}norm2.weight`, [C]);
    add(`${k}norm2.bias`, [C]);
  }
  add(`${PD}mask_features.weight`, [Md, C, 1, 1]);
  add(`${PD}mask_features.bias`, [Md]);
  add(`${PD}adapter_1.weight`, [C, dims[0]!, 1, 1]);
  add(`${PD}adapter_1.norm.weight`, [C]);
  add(`${PD}adapter_1.norm.bias`, [C]);
  add(`${PD}layer_1.weight`, [C, C, 3, 3]);
  add(`${PD}layer_1.norm.weight`, [C]);
  add(`${PD}layer_1.norm.bias`, [C]);

  // Transformer decoder.
  const { hiddenDim: D, numQueries: Q, ffnDim: F } = a.decoder;
  add(`${TD}logit_scale`, []);
  const attn = (k: string) => {
    add(`${k}in_proj_weight`, [3 * D, D]);
    add(`${k}in_proj_bias`, [3 * D]);
    add(`${k}out_proj.weight`, [D, D]);
    add(`${k}out_proj.bias`, [D]);
  };
  for (let i = 0; i < a.decoder.layers; i++) {
    attn(`${TD}transformer_self_attention_layers.${i}.self_attn.`);
    add(`${TD}transformer_self_attention_layers.${i}.norm.weight`, [D]);
    add(`${TD}transformer_self_attention_layers.${i}.norm.bias`, [D]);
  }
  for (let i = 0; i < a.decoder.layers; i++) {
    attn(`${TD}transformer_cross_attention_layers.${i}.multihead_attn.`);
    add(`${TD}transformer_cross_attention_layers.${i}.norm.weight`, [D]);
    add(`${TD}transformer_cross_attention_layers.${i}.norm.bias`, [D]);
  }
  for (let i = 0; i < a.decoder.layers; i++) {
    const k = `${TD}transformer_ffn_layers.${i}.`;
    add(`${k}linear1.weight`, [F, D]);
    add(`${k}linear1.bias`, [F]);
    add(`${k}linear2.weight`, [D, F]);
    add(`${k}linear2.bias`, [D]);
    add(`${k}norm.weight`, [D]);
    add(`${k}norm.bias`, [D]);
  }
  add(`${TD}decoder_norm.weight`, [D]);
  add(`${TD}decoder_norm.bias`, [D]);
  add(`${TD}query_feat.weight`, [Q, D]);
  add(`${TD}query_embed.weight`, [Q, D]);
  add(`${TD}level_embed.weight`, [L, D]);
  add(`${TD}mask_embed.layers.0.weight`, [D, D]);
  add(`${TD}mask_embed.layers.0.bias`, [D]);
  add(`${TD}mask_embed.layers.1.weight`, [D, D]);
  add(`${TD}mask_embed.layers.1.bias`, [D]);
  add(`${TD}mask_embed.layers.2.weight`, [Md, D]);
  add(`${TD}mask_embed.layers.2.bias`, [Md]);
  add(`${TD}_mask_pooling_proj.0.weight`, [Md]);
  add(`${TD}_mask_pooling_proj.0.bias`, [Md]);
  add(`${TD}_mask_pooling_proj.1.weight`, [D, Md]);
  add(`${TD}_mask_pooling_proj.1.bias`, [D]);
  add(`${TD}class_embed.layers.0.weight`, [D, D]);
  add(`${TD}class_embed.layers.0.bias`, [D]);
  add(`${TD}class_embed.layers.1.weight`, [D, D]);
  add(`${TD}class_embed.layers.1.bias`, [D]);
  add(`${TD}class_embed.layers.2.weight`, [E, D]);
  add(`${TD}class_embed.layers.2.bias`, [E]);
  add("void_embedding.weight", [1, E]);
  if (a.trainNumClasses !== null) add("criterion.empty_weight", [a.trainNumClasses + 1]);
  return out;
}
