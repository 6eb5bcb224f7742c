import {
  type Engine,
  maskStatistics,
  type ResizeCropGeometry,
  resizeCropResize,
  type Tensor,
} from "@fcclip/tensor-core";
import { FcclipError } from "../errors.js";

/** One chunk of output pixels: [p0, p0 + valid) of the original image, padded to `count` (a multiple of 32). */
export interface MaskLogitChunk {
  p0: number;
  valid: number;
  count: number;
  /** [Q, count] final-resolution mask logits; with `sigmoidFirst`, resized sigmoid probabilities. */
  logits: Tensor;
}

/** A consumer of the stream: semantic_inference, panoptic_inference, instance_inference, the query statistics. */
export interface ChunkTask {
  /** Encodes the chunk's GPU work inside the chunk's scope; the tensors returned are read back for `take`. */
  encode(chunk: MaskLogitChunk): Record<string, Tensor>;
  take(chunk: MaskLogitChunk, values: Record<string, Float32Array | Int32Array | Uint32Array>): void;
}

/**
 * sem_seg_postprocess's two resizes of every query's mask logits (FCCLIP-SPEC §7.1–7.2), as one stream of pixel
 * chunks that every task reads: no [Q, H, W] tensor is ever materialised (at 800×1216 with 250 queries it would be
 * ~1 GB), so memory stays bounded for any image size.
 *
 * `sigmoidFirst` applies the sigmoid at the padded resolution, before the crop and second resize: the semantic path
 * of configs that resize after inference (SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE false, with panoptic and instance
 * off). Resizing is linear, so Σ_q p_q·resize(σ(m_q)) = resize(Σ_q p_q·σ(m_q)): the class map is resized without
 * materialising [K, H, W].
 */
export async function streamMaskLogits(
  engine: Engine,
  lowMasks: Tensor,
  geo: ResizeCropGeometry,
  tasks: readonly ChunkTask[],
  opts: { chunk?: number; sigmoidFirst?: boolean } = {},
): Promise<void> {
  const total = geo.original[0] * geo.original[1];
  const chunk = opts.chunk ?? 65536;
  // Instance masks are packed 32 pixels to a word, so chunks must start on word boundaries.
  if (!Number.isInteger(chunk) || chunk <= 0 || chunk % 32 !== 0) {
    throw new FcclipError(`inference: the pixel chunk must be a positive multiple of 32, got ${chunk}`);
  }
  for (let p0 = 0; p0 < total; p0 += chunk) {
    const valid = Math.min(chunk, total - p0);
    const count = Math.ceil(valid / 32) * 32;
    const encoded = engine.scope(() => {
      const c = { p0, valid, count, logits: resizeCropResize(lowMasks, geo, p0, count, opts.sigmoidFirst) };
      return { c, reads: tasks.map((t) => t.encode(c)) };
    });
    try {
      for (const [i, t] of tasks.entries()) {
        const values: Record<string, Float32Array | Int32Array | Uint32Array> = {};
        for (const [k, v] of Object.entries(encoded.reads[i]!)) values[k] = await v.read();
        t.take(encoded.c, values);
      }
    } finally {
      for (const r of encoded.reads) for (const v of Object.values(r)) v.dispose();
      encoded.c.logits.dispose();
    }
  }
}

/**
 * Per-query sums over the whole image (maskStatistics, chunk by chunk): [#(sigmoid ≥ 0.5), Σ sigmoid·1[x > 0],
 * #(x > 0)] → [Q, 3]. The first feeds panoptic overlap ratios, the others instance mask scores.
 */
export class QueryStatistics implements ChunkTask {
  readonly sums: Float64Array;

  constructor(queries: number) {
    this.sums = new Float64Array(queries * 3);
  }

  encode(c: MaskLogitChunk): Record<string, Tensor> {
    return { stats: maskStatistics(c.logits, c.valid) };
  }

  take(_: MaskLogitChunk, v: Record<string, Float32Array | Int32Array | Uint32Array>): void {
    const s = v.stats!;
    for (let i = 0; i < s.length; i++) this.sums[i]! += s[i]!;
  }
}
