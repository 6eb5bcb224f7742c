import type { Engine } from "../engine.js";
import { ShapeError } from "../errors.js";
import { enableF16, type Param, paramsStruct, storageDecls } from "../kernel.js";
import type { Tensor } from "../tensor.js";
import { checkInput, checkRank, load, rowWindows } from "./util.js";

/**
 * An f32 matrix [M, K] also stored as an rgba32float texture, texel (k/4, m) = row m, columns k..k+3. On CPU WebGPU
 * (lavapipe) a texel fetch costs less than a divergent storage-buffer load, so matmul reads the operand that varies
 * across lanes from such a texture (shared/perf/REPORT.md §2.4): weights get one at load time (tryCreate), other
 * operands are packed on the GPU on first use and kept with their tensor (of). Needs K % 4 == 0 and both sizes within
 * maxTextureDimension2D.
 */
export class MatrixTexture {
  private constructor(
    private readonly engine: Engine,
    readonly texture: GPUTexture,
    readonly view: GPUTextureView,
    readonly rows: number,
    readonly cols: number,
  ) {}

  /** Whether an [rows, cols] matrix fits the texture path on this engine. */
  static fits(engine: Engine, rows: number, cols: number): boolean {
    const max = engine.limits.maxTextureDimension2D;
    return cols % 4 === 0 && cols > 0 && cols / 4 <= max && rows <= max && rows > 0;
  }

  private static create(engine: Engine, rows: number, cols: number, usage: number): MatrixTexture {
    const texture = engine.device.createTexture({ size: [cols / 4, rows], format: "rgba32float", usage });
    return new MatrixTexture(engine, texture, texture.createView(), rows, cols);
  }

  /** null when the matrix does not fit the texture path (then matmul simply reads the tensor). */
  static tryCreate(engine: Engine, data: Float32Array, rows: number, cols: number): MatrixTexture | null {
    if (data.length !== rows * cols)
      throw new ShapeError(`MatrixTexture: ${data.length} values for [${rows}, ${cols}]`);
    if (!MatrixTexture.fits(engine, rows, cols)) return null;
    const t = MatrixTexture.create(engine, rows, cols, GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST);
    engine.device.queue.writeTexture(
      { texture: t.texture },
      data as Float32Array<ArrayBuffer>,
      { bytesPerRow: cols * 4, rowsPerImage: rows },
      [cols / 4, rows],
    );
    return t;
  }

  /**
   * A texture holding a 2-D tensor's current values (f32 or f16, widened), written by a compute pass in the queue's
   * order; null when it does not fit. Dispose it after encoding the ops that read it.
   */
  static fromTensor(t: Tensor): MatrixTexture | null {
    checkInput("MatrixTexture.fromTensor", "t", t);
    checkRank("MatrixTexture.fromTensor", "t", t, 2);
    const [rows, cols] = t.shape as [number, number];
    const e = t.engine;
    if (!MatrixTexture.fits(e, rows, cols)) return null;
    const m = MatrixTexture.create(e, rows, cols, GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING);
    const v = (j: number) => load(t.dtype, "a", `base + ${j}u`);
    // A tensor over the binding limit is read in windows of whole rows.
    for (const w of rowWindows(t, rows, cols)) {
      const params: Param[] = [
        ["K4", "u32", cols / 4],
        ["row0", "u32", w.r0],
        ["a_base", "u32", w.base],
      ];
      e.run({
        name: "matrix_texture_pack",
        kind: "copies / permutes",
        key: t.dtype,
        params,
        inputs: [w.binding],
        outputs: [],
        storageTextures: [m.view],
        workgroups: [Math.ceil(cols / 4 / 64), w.count, 1],
        wgsl: () => `${enableF16([t.dtype])}${paramsStruct(params)}${storageDecls([["a", t.dtype]], [])}
@group(0) @binding(2) var T: texture_storage_2d<rgba32float, write>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= p.K4) { return; }
  let base = p.a_base + (g.y * p.K4 + g.x) * 4u;
  textureStore(T, vec2<u32>(g.x, p.row0 + g.y), vec4<f32>(${[0, 1, 2, 3].map(v).join(", ")}));
}`,
      });
    }
    return m;
  }

  /**
   * The texture of a 2-D tensor, packed on first use and kept with the tensor until it is disposed (weights are
   * packed once, not per call); null when it does not fit.
   */
  static of(t: Tensor): MatrixTexture | null {
    return t.derived(`matrix-texture ${t.shape.join("x")}`, () => MatrixTexture.fromTensor(t));
  }

  /** Frees the texture once the work already encoded (which may read it) is submitted. */
  dispose(): void {
    this.engine.releaseTexture(this.texture);
  }
}
