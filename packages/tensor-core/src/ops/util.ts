import { DTYPE_BYTES, type DType } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import type { BufferBinding } from "../kernel.js";
import { fmtShape, type Shape } from "../shape.js";
import type { Tensor } from "../tensor.js";

/** Throws DisposedTensorError for a disposed tensor and DTypeError for a dtype the op does not take. */
export function checkInput(op: string, name: string, t: Tensor, dtypes: readonly DType[] = ["f32", "f16"]): void {
  void t.buffer;
  if (!dtypes.includes(t.dtype)) {
    throw new DTypeError(`${op}: ${name} has dtype ${t.dtype}, expected ${dtypes.join(" or ")}`);
  }
}

export function checkRank(op: string, name: string, t: Tensor, rank: number | readonly number[]): void {
  const ranks = typeof rank === "number" ? [rank] : rank;
  if (!ranks.includes(t.rank)) {
    throw new ShapeError(`${op}: ${name} must have rank ${ranks.join(" or ")}, got ${fmtShape(t.shape)}`);
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** WGSL expression reading element `idx` of `arr` as f32. */
export function load(dtype: DType, arr: string, idx: string): string {
  return dtype === "f32" ? `${arr}[${idx}]` : `f32(${arr}[${idx}])`;
}

/** WGSL expression converting an f32 value to the storage type of dtype. */
export function store(dtype: DType, value: string): string {
  return dtype === "f32" ? value : `${dtype}(${value})`;
}

/** Alignment of binding offsets, in elements of `bytesPerElement`. */
export function offsetAlignElements(limits: GPUSupportedLimits, bytesPerElement: number): number {
  return limits.minStorageBufferOffsetAlignment / bytesPerElement;
}

/**
 * A binding of elements [first, first + count) of `t`, starting at the binding-aligned offset at or below the first
 * element; `base` is the first element's index within the binding.
 */
export function elementWindow(t: Tensor, first: number, count: number): { binding: BufferBinding; base: number } {
  const bytes = DTYPE_BYTES[t.dtype];
  const align = t.engine.limits.minStorageBufferOffsetAlignment;
  const start = first * bytes;
  const aligned = Math.floor(start / align) * align;
  return { binding: t.binding(aligned, start + count * bytes - aligned), base: (start - aligned) / bytes };
}

/**
 * Windows of whole rows of a row-major [rows, cols] tensor, each within the engine's binding limit (one window when
 * the tensor fits): the first row, the row count, the binding and the element offset of the first row in it.
 */
export function* rowWindows(
  t: Tensor,
  rows: number,
  cols: number,
): Generator<{ r0: number; count: number; binding: BufferBinding; base: number }> {
  const e = t.engine;
  const bytes = DTYPE_BYTES[t.dtype];
  const align = e.limits.minStorageBufferOffsetAlignment;
  const perWindow = Math.max(1, Math.floor((e.maxBindingBytes - align) / (cols * bytes)));
  for (let r0 = 0; r0 < rows; r0 += perWindow) {
    const count = Math.min(perWindow, rows - r0);
    yield { r0, count, ...elementWindow(t, r0 * cols, count * cols) };
  }
}
