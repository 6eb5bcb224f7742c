import {
  add,
  attention,
  concat,
  disposeParams,
  type Engine,
  interpolate,
  loadParams,
  matmul,
  mean,
  permute,
  ShapeError,
  slice,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";

/** open_clip AttentionPool2d parameters (`attnpool.*`): field → key. */
const ATTNPOOL = {
  positional: "positional_embedding",
  qWeight: "q_proj.weight",
  qBias: "q_proj.bias",
  kWeight: "k_proj.weight",
  kBias: "k_proj.bias",
  vWeight: "v_proj.weight",
  vBias: "v_proj.bias",
  cWeight: "c_proj.weight",
  cBias: "c_proj.bias",
} as const;

type AttentionPoolParams = { [K in keyof typeof ATTNPOOL]: Tensor };

/**
 * ModifiedResNet's attention pool: multi-head attention (64-wide heads) whose query is the mean token. It serves
 * encode_image (keys: the mean token and every pixel, positions from the native grid) and FC-CLIP's
 * out-of-vocabulary head (keys: the pixels of one mask, positions resized to the map; FCCLIP-SPEC §2.4).
 */
export class AttentionPool2d {
  private constructor(
    private readonly p: AttentionPoolParams,
    /** The positional embedding's square grid side: image_size / 32. */
    readonly grid: number,
  ) {}

  static async load(engine: Engine, source: TensorSource, prefix: string): Promise<AttentionPool2d> {
    const p = await loadParams(engine, source, prefix, ATTNPOOL);
    const [tokens, C] = p.positional.shape as [number, number];
    const grid = Math.round(Math.sqrt(tokens - 1));
    if (grid * grid + 1 !== tokens || C % 64 !== 0) {
      disposeParams(p);
      throw new ShapeError(
        `${prefix}positional_embedding is [${tokens}, ${C}]: expected [g²+1, C] with C a multiple of 64 (heads of 64)`,
      );
    }
    return new AttentionPool2d(p, grid);
  }

  get channels(): number {
    return this.p.positional.shape[1]!;
  }

  get heads(): number {
    return this.channels / 64;
  }

  get embedDim(): number {
    return this.p.cWeight.shape[0]!;
  }

  /** [L, C] rows → [heads, L, 64] for one projection. */
  private project(rows: Tensor, w: Tensor, b: Tensor): Tensor {
    const L = rows.shape[0]!;
    const y = matmul(rows, w, { transB: true, bias: b }).reshape([L, this.heads, 64]);
    return permute(y, [1, 0, 2]);
  }

  /**
   * The one query row [1, C] attends over `keyValue` [Lk, C] → c_proj → [rows, embed_dim]. With rows > 1 the projected
   * query is broadcast, each row under its own line of `mask` [rows, Lk] (i32, nonzero = excluded).
   */
  private attend(query: Tensor, keyValue: Tensor, rows = 1, mask?: Tensor): Tensor {
    const e = query.engine;
    let q = this.project(query, this.p.qWeight, this.p.qBias);
    if (rows > 1) q = add(e.zeros([this.heads, rows, 64]), q);
    const k = this.project(keyValue, this.p.kWeight, this.p.kBias);
    const v = this.project(keyValue, this.p.vWeight, this.p.vBias);
    // Heads are 64 wide, so the 1/√64 scale is exact.
    const o = attention(q, k, v, { mask, scale: 1 / 8 });
    const merged = permute(o, [1, 0, 2]).reshape([rows, this.channels]);
    return matmul(merged, this.p.cWeight, { transB: true, bias: this.p.cBias });
  }

  /** [1, C, h, w] → pixel rows [h·w, C]. */
  private static rows(x: Tensor): Tensor {
    const [, C, h, w] = x.shape as [number, number, number, number];
    return permute(x.reshape([C, h * w]), [1, 0]);
  }

  /** encode_image's pool of one image's res5 [1, C, g, g] → [1, embed_dim]; only the mean token's output is used. */
  pool(x: Tensor): Tensor {
    const [, C, h, w] = x.shape as [number, number, number, number];
    if (C !== this.channels || h !== this.grid || w !== this.grid) {
      throw new ShapeError(
        `attention pool: res5 is ${C}×${h}×${w}, the positional embedding is for ${this.channels}×${this.grid}×${this.grid} (an input of ${this.grid * 32}×${this.grid * 32})`,
      );
    }
    return x.engine.scope(() => {
      const pixels = AttentionPool2d.rows(x);
      const tokens = add(concat([mean(pixels, 0, true), pixels], 0), this.p.positional);
      return this.attend(slice(tokens, [{ end: 1 }]), tokens);
    });
  }

  /**
   * CLIP.visual_prediction_forward_resnet for one image: dense [1, C, h, w], `excluded` [Q, h·w] i32 (1 where a
   * pixel is outside mask q) → [Q, embed_dim]. Every mask's query is the same mean token; the keys are the pixels plus
   * the positional grid resized bilinearly to h×w; the mean token is not a key. A mask with no pixel gives NaN, as
   * upstream (FC-CLIP's ENSEMBLE_ON_VALID_MASK then ignores it).
   */
  maskPool(dense: Tensor, excluded: Tensor): Tensor {
    const [, C, h, w] = dense.shape as [number, number, number, number];
    const Q = excluded.shape[0]!;
    if (C !== this.channels || excluded.shape[1] !== h * w) {
      throw new ShapeError(
        `attention mask pool: dense ${C}×${h}×${w} and masks [${excluded.shape}] do not fit a ${this.channels}-channel pool`,
      );
    }
    return dense.engine.scope(() => {
      const g = this.grid;
      const grid = permute(slice(this.p.positional, [{ start: 1 }]), [1, 0]).reshape([1, C, g, g]);
      const spatial = AttentionPool2d.rows(interpolate(grid, { size: [h, w] }));
      const pixels = AttentionPool2d.rows(dense);
      const keyValue = add(pixels, spatial);
      const query = add(mean(pixels, 0, true), slice(this.p.positional, [{ end: 1 }]));
      return this.attend(query, keyValue, Q, excluded);
    });
  }

  dispose(): void {
    disposeParams(this.p);
  }
}
