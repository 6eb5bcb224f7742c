import type { Engine } from "../engine.js";
import { ShapeError } from "../errors.js";

/**
 * A constant f32 matrix [M, K] (a weight) also stored as an rgba32float texture, texel (k/4, m) = row m, columns
 * k..k+3. On CPU WebGPU (lavapipe) a texel fetch costs less than a divergent storage-buffer load, so matmul reads
 * such a matrix from the texture when it is the left operand (measured here: 1024³ from 4.3 to 5.1 GFLOP/s;
 * shared/perf/REPORT.md §2.4). Needs K % 4 == 0 and both sizes within maxTextureDimension2D.
 */
export class MatrixTexture {
  private constructor(
    readonly texture: GPUTexture,
    readonly view: GPUTextureView,
    readonly rows: number,
    readonly cols: number,
  ) {}

  /** null when the matrix does not fit the texture path (then matmul simply reads the tensor). */
  static tryCreate(engine: Engine, data: Float32Array, rows: number, cols: number): MatrixTexture | null {
    if (data.length !== rows * cols)
      throw new ShapeError(`MatrixTexture: ${data.length} values for [${rows}, ${cols}]`);
    const max = engine.limits.maxTextureDimension2D;
    if (cols % 4 !== 0 || cols / 4 > max || rows > max || rows === 0) return null;
    const texture = engine.device.createTexture({
      size: [cols / 4, rows],
      format: "rgba32float",
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    engine.device.queue.writeTexture(
      { texture },
      data as Float32Array<ArrayBuffer>,
      { bytesPerRow: cols * 4, rowsPerImage: rows },
      [cols / 4, rows],
    );
    return new MatrixTexture(texture, texture.createView(), rows, cols);
  }

  dispose(): void {
    this.texture.destroy();
  }
}
