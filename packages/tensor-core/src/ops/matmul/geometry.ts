import { ShapeError } from "../../errors.js";
import type { BufferBinding } from "../../kernel.js";
import { broadcastShapes, broadcastStrides, fmtShape } from "../../shape.js";
import type { Tensor } from "../../tensor.js";
import { coalesce } from "../binary.js";
import type { MatrixTexture } from "../matrix-texture.js";
import type { MatmulOptions } from "./options.js";

export interface Geometry {
  M: number;
  N: number;
  K: number;
  batchShape: number[];
  batchStrides: number[][];
}

export function geometry(a: Tensor, b: Tensor, o: MatmulOptions): Geometry {
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: operands need rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [M, Ka] = o.transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = o.transB ? [bc, br] : [br, bc];
  if (Ka !== Kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: a ${fmtShape(a.shape)}${o.transA ? "ᵀ" : ""} has K=${Ka}, b ${fmtShape(b.shape)}${o.transB ? "ᵀ" : ""} has K=${Kb}`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batchShape = broadcastShapes("matmul", batchA, batchB);
  const c = coalesce(batchShape, [
    broadcastStrides(batchA, batchShape).map((s) => s * M * Ka),
    broadcastStrides(batchB, batchShape).map((s) => s * Ka * N),
    broadcastStrides(batchShape, batchShape).map((s) => s * M * N),
  ]);
  return { M, N, K: Ka, batchShape, batchStrides: [c.shape, ...c.strides] };
}

/** A matmul's shape class in profiles: [batch×] M×K · K→N. */
export function shapeLabel(batch: number, M: number, K: number, N: number): string {
  return `${batch > 1 ? `${batch}× ` : ""}${M}×${K}·${K}→${N}`;
}

/** A binding window of an operand and the element offset of its first element in it. */
export interface Window {
  binding: BufferBinding;
  base: number;
}

/** The operand a texture-fed kernel reads from a texture. */
export interface TextureOperand {
  side: "a" | "b";
  tex: MatrixTexture;
}

/** One dispatch's part of the product: its rows, columns and K slice, and the operands' windows. */
export interface Tile {
  mc: number;
  nc: number;
  m0: number;
  n0: number;
  aw: Window;
  bw: Window;
  cw: Window;
  /** The residual's window: cut like C's, so it is read at C's indices. */
  rw?: Window;
  biasAxis: "n" | "m";
  /** K-split: this slice's first k and depth, whether it adds to C, and whether it is the last (bias, activation). */
  k0?: number;
  kc?: number;
  accumulate?: boolean;
  last?: boolean;
  /** The operand to read from a texture (texture-fed kernels), if any. */
  texture: TextureOperand | null;
}

/** What a matmul kernel variant encodes: the operands, options and geometry of the product, and one tile of it. */
export interface TileCall {
  a: Tensor;
  b: Tensor;
  o: MatmulOptions;
  g: Geometry;
  t: Tile;
}
