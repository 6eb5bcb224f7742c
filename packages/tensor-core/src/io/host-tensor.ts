import { f16BitsToF32 } from "../dtype.js";
import type { Engine } from "../engine.js";
import type { Tensor } from "../tensor.js";
import { FormatError } from "./errors.js";

/** Element types met in checkpoints, with safetensors' names. */
export type StoredDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

export const STORED_BYTES: Record<StoredDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** A tensor read from a file, still on the CPU: raw little-endian bytes in a contiguous row-major layout. */
export interface HostTensor {
  dtype: StoredDType;
  shape: number[];
  bytes: Uint8Array;
}

/**
 * Converts to float32 (bf16/f16 exactly, f64 rounded, integers converted; i64 beyond 2^53 cannot be represented and
 * is refused rather than silently rounded).
 */
export function toFloat32(t: HostTensor): Float32Array {
  const n = t.bytes.byteLength / STORED_BYTES[t.dtype];
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case "F32":
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case "F64":
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = f16BitsToF32(view.getUint16(2 * i, true));
      break;
    case "BF16": {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let i = 0; i < n; i++) {
        u[0] = view.getUint16(2 * i, true) << 16;
        out[i] = f[0]!;
      }
      break;
    }
    case "I64":
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(-Number.MAX_SAFE_INTEGER)) {
          throw new FormatError(`an int64 value ${v} does not fit a float`);
        }
        out[i] = Number(v);
      }
      break;
    case "I32":
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case "I16":
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case "I8":
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case "U8":
    case "BOOL":
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      break;
  }
  return out;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Uploads a host tensor as f32 (or keeps it f16 on the GPU when asked and the adapter supports it). */
export function uploadHost(engine: Engine, t: HostTensor, keep: "f32" | "f16" = "f32"): Tensor {
  const copy = () => {
    const c = new Uint8Array(t.bytes.byteLength);
    c.set(t.bytes);
    return c.buffer;
  };
  if (keep === "f16" && engine.hasF16 && t.dtype === "F16")
    return engine.tensor(new Uint16Array(copy()), t.shape, "f16");
  if (t.dtype === "I32") return engine.tensor(new Int32Array(copy()), t.shape, "i32");
  return engine.tensor(toFloat32(t), t.shape, keep === "f16" && engine.hasF16 ? "f16" : "f32");
}
