import { DTYPE_BYTES, type DType, f16BitsToF32 } from "./dtype.js";
import type { Engine } from "./engine.js";
import { DisposedTensorError, ShapeError } from "./errors.js";
import type { BufferBinding } from "./kernel.js";
import { fmtShape, type Shape, sizeOf } from "./shape.js";

/** A GPU buffer shared by a tensor and its reshaped views; returned to the pool when the last one is disposed. */
export interface Storage {
  buffer: GPUBuffer | null;
  refs: number;
  /** GPU resources derived from the data (matmul's textures), keyed by what they are; freed with the buffer. */
  derived?: Map<string, { dispose(): void } | null>;
}

/** A dense, row-major tensor living in one GPU buffer. Create them through an Engine. */
export class Tensor {
  readonly size: number;
  private alive = true;

  constructor(
    readonly engine: Engine,
    readonly shape: Shape,
    readonly dtype: DType,
    private readonly storage: Storage,
  ) {
    this.size = sizeOf(shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get byteLength(): number {
    return this.size * DTYPE_BYTES[this.dtype];
  }

  get disposed(): boolean {
    return !this.alive;
  }

  /** The underlying buffer; throws DisposedTensorError after dispose(). */
  get buffer(): GPUBuffer {
    if (!this.alive || !this.storage.buffer) {
      throw new DisposedTensorError(`tensor ${fmtShape(this.shape)} ${this.dtype} was used after it was disposed`);
    }
    return this.storage.buffer;
  }

  /** Binds the whole tensor, or a byte window of it (used by ops that chunk large tensors). */
  binding(offset = 0, size = this.byteLength): BufferBinding {
    return { buffer: this.buffer, offset, size: Math.max(4, Math.ceil(size / 4) * 4) };
  }

  /** A view with another shape over the same data (no copy). Dispose it like any tensor. */
  reshape(shape: readonly number[]): Tensor {
    const known = shape.filter((d) => d !== -1);
    const inferred = shape.length - known.length;
    if (inferred > 1) throw new ShapeError(`reshape: at most one -1 allowed, got ${fmtShape(shape)}`);
    const knownSize = sizeOf(known);
    const full = shape.map((d) => (d === -1 ? (knownSize === 0 ? 0 : this.size / knownSize) : d));
    if (sizeOf(full) !== this.size || full.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ShapeError(
        `reshape: cannot view ${fmtShape(this.shape)} (${this.size} elements) as ${fmtShape(shape)}`,
      );
    }
    void this.buffer;
    this.storage.refs++;
    return this.engine.adopt(new Tensor(this.engine, full, this.dtype, this.storage));
  }

  /**
   * @internal A resource derived from this tensor's data, made on first use and shared by its views. Tensors are
   * never written after the op that made them, so it stays valid until the last view is disposed, which frees it.
   */
  derived<T extends { dispose(): void }>(key: string, make: () => T | null): T | null {
    void this.buffer;
    this.storage.derived ??= new Map();
    const cache = this.storage.derived;
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T | null;
  }

  dispose(): void {
    if (!this.alive) return;
    this.alive = false;
    this.storage.refs--;
    if (this.storage.refs === 0 && this.storage.buffer) {
      for (const d of this.storage.derived?.values() ?? []) d?.dispose();
      this.storage.derived = undefined;
      this.engine.releaseBuffer(this.storage.buffer);
      this.storage.buffer = null;
    }
  }

  /** Copies the data back to the CPU. f16 tensors come back as float32. */
  async read(): Promise<Float32Array | Int32Array | Uint32Array> {
    const bytes = await this.engine.readBytes(this);
    switch (this.dtype) {
      case "f32":
        return new Float32Array(bytes, 0, this.size);
      case "i32":
        return new Int32Array(bytes, 0, this.size);
      case "u32":
        return new Uint32Array(bytes, 0, this.size);
      case "f16": {
        const halves = new Uint16Array(bytes, 0, this.size);
        const out = new Float32Array(this.size);
        for (let i = 0; i < this.size; i++) out[i] = f16BitsToF32(halves[i]!);
        return out;
      }
    }
  }

  /** Reads as float32 (integer tensors are converted). */
  async readFloat(): Promise<Float32Array> {
    const data = await this.read();
    return data instanceof Float32Array ? data : Float32Array.from(data);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}${this.alive ? "" : ", disposed"})`;
  }
}
