import {
  add,
  type Engine,
  embedding,
  layerNorm,
  matmul,
  paramLoader,
  ShapeError,
  slice,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";
import {
  disposeResidualBlock,
  loadResidualBlock,
  type ResidualBlockParams,
  residualBlock,
  type TextActivation,
} from "./residual-block.js";

/**
 * Each row's end-of-text position in [n, context] ids: EOT is the largest id, so argmax finds it (the first one, as
 * torch.argmax does).
 */
export function endTokenPositions(tokens: Int32Array, n: number): Int32Array {
  const context = tokens.length / n;
  const eot = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < context; c++) if (tokens[r * context + c]! > tokens[r * context + best]!) best = c;
    eot[r] = best;
  }
  return eot;
}

const FINGERPRINT_KEYS = [
  "text_projection",
  "ln_final.weight",
  "ln_final.bias",
  "positional_embedding",
  "transformer.resblocks.0.attn.in_proj_weight",
];

async function sha256(parts: readonly Uint8Array[]): Promise<Uint8Array> {
  const total = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    total.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", total));
}

/** Text tower sizes: convnext_large_d_320 has width 768, 16 layers, 12 heads, context 77, embed 768. */
export interface TextTowerShape {
  width: number;
  layers: number;
  heads: number;
  /** Default "gelu". */
  activation?: TextActivation;
}

/**
 * CLIP's text tower with open_clip v2.20.0 semantics (FCCLIP-SPEC §2.5): token + positional embedding, pre-LN
 * residual blocks with a causal mask, ln_final, the row of the end-of-text token, then `@ text_projection`.
 *
 * Causality means no position after a row's end token can change its pooled output, so each batch only runs the
 * first (longest end-token position + 1) positions: identical results, and ~5× less work for 77-long prompts of
 * ~15 tokens.
 */
export class ClipTextEncoder {
  private readonly masks = new Map<number, Tensor>();

  private constructor(
    readonly engine: Engine,
    readonly shape: TextTowerShape,
    /**
     * SHA-256 of a few of the tower's weight tensors (projection, final LayerNorm, positions, the first attention's
     * input projection): identifies the weights for classifiers persisted between runs, without hashing them all.
     */
    readonly fingerprint: Uint8Array,
    private readonly tokenEmbedding: Tensor,
    private readonly positional: Tensor,
    private readonly blocks: ResidualBlockParams[],
    private readonly lnFinalWeight: Tensor,
    private readonly lnFinalBias: Tensor,
    private readonly projection: Tensor,
  ) {}

  /** prefix: "" for open_clip files, "backbone.clip_model." inside FC-CLIP weights. */
  static async load(
    engine: Engine,
    source: TensorSource,
    prefix: string,
    shape: TextTowerShape,
  ): Promise<ClipTextEncoder> {
    const load = paramLoader(engine, source, prefix);
    const blocks: ResidualBlockParams[] = [];
    for (let i = 0; i < shape.layers; i++)
      blocks.push(await loadResidualBlock(engine, source, `${prefix}transformer.resblocks.${i}.`));
    const fingerprint = await sha256(
      await Promise.all(FINGERPRINT_KEYS.map(async (k) => (await source.read(`${prefix}${k}`)).bytes)),
    );
    return new ClipTextEncoder(
      engine,
      shape,
      fingerprint,
      await load("token_embedding.weight"),
      await load("positional_embedding"),
      blocks,
      await load("ln_final.weight"),
      await load("ln_final.bias"),
      await load("text_projection"),
    );
  }

  get embedDim(): number {
    return this.projection.shape[1]!;
  }

  private causalMask(L: number): Tensor {
    let m = this.masks.get(L);
    if (!m) {
      const data = new Float32Array(L * L);
      for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) data[i * L + j] = Number.NEGATIVE_INFINITY;
      m = this.engine.keep(this.engine.tensor(data, [L, L]));
      this.masks.set(L, m);
    }
    return m;
  }

  /** tokens: [n, context] ids from ClipTokenizer.tokenize → un-normalised text features [n, embed_dim]. */
  encodeTokens(tokens: Int32Array, n: number): Tensor {
    const context = tokens.length / n;
    if (!Number.isInteger(context) || context > this.positional.shape[0]!) {
      throw new ShapeError(
        `encodeTokens: ${tokens.length} ids are not ${n} rows of at most ${this.positional.shape[0]} tokens`,
      );
    }
    const eot = endTokenPositions(tokens, n);
    const L = Math.max(...eot) + 1;
    const ids = new Int32Array(n * L);
    for (let r = 0; r < n; r++) ids.set(tokens.subarray(r * context, r * context + L), r * L);
    const W = this.shape.width;
    const e = this.engine;
    return e.scope(() => {
      let x = embedding(this.tokenEmbedding, e.tensor(ids, [n, L]));
      x = e.scope(() => {
        const pos = slice(this.positional, [{ end: L }]);
        return add(x, pos);
      });
      const mask = this.causalMask(L);
      const act = this.shape.activation ?? "gelu";
      for (const b of this.blocks) x = residualBlock(x, b, this.shape.heads, mask, act);
      const normed = layerNorm(x, this.lnFinalWeight, this.lnFinalBias, { eps: 1e-5 }).reshape([n * L, W]);
      const rows = Int32Array.from(eot, (p, r) => r * L + p);
      const pooled = embedding(normed, e.tensor(rows, [n]));
      return matmul(pooled, this.projection);
    });
  }

  dispose(): void {
    const all = [
      this.tokenEmbedding,
      this.positional,
      this.lnFinalWeight,
      this.lnFinalBias,
      this.projection,
      ...this.masks.values(),
    ];
    for (const b of this.blocks) disposeResidualBlock(b);
    for (const t of all) t.dispose();
  }
}
