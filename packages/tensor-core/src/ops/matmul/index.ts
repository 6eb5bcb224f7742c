import { ShapeError } from "../../errors.js";
import { fmtShape } from "../../shape.js";
import type { Tensor } from "../../tensor.js";
import { checkInput, sameShape } from "../util.js";
import { runsOn } from "../variants.js";
import { geometry } from "./geometry.js";
import type { MatmulOptions } from "./options.js";
import { chooseTexture, textureFed } from "./texture.js";
import { splitAndEncode } from "./windows.js";

export type { MatmulOptions } from "./options.js";

/**
 * Batched matrix product with broadcasting batch dimensions, optional transposed operands, and a fused epilogue
 * (epilogue.ts). Accumulates in f32 (f16 operands are widened); the result is f32. The kernel variants are files of
 * this folder, listed in order of preference in variants.ts: texture-fed (CPU adapters, texture.ts), register-blocked
 * storage-buffer (cpu-register.ts) and workgroup-tiled (GPU adapters, gpu-tiled.ts); windows.ts cuts operands over
 * the binding limit along M, N or K and gives each tile to the first variant that runs it.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkInput("matmul", "a", a);
  checkInput("matmul", "b", b);
  const g = geometry(a, b, opts);
  const { M, N } = g;
  const biasAxis = opts.biasAxis ?? "n";
  for (const [name, v] of [
    ["bias", opts.bias],
    ["scale", opts.scale],
  ] as const) {
    if (!v) continue;
    checkInput("matmul", name, v);
    const want = biasAxis === "n" ? N : M;
    if (v.size !== want) {
      throw new ShapeError(
        `matmul: ${name} has ${v.size} elements, expected ${want} (one per ${biasAxis.toUpperCase()})`,
      );
    }
  }
  const outShape = [...g.batchShape, M, N];
  if (opts.residual) {
    checkInput("matmul", "residual", opts.residual, ["f32"]);
    if (!sameShape(opts.residual.shape, outShape)) {
      throw new ShapeError(
        `matmul: residual is ${fmtShape(opts.residual.shape)}, expected the result's shape ${fmtShape(outShape)}`,
      );
    }
  }
  const e = a.engine;
  const out = e.empty(outShape, "f32");
  if (out.size === 0) return out;
  const flavor = opts.flavor ?? e.flavor;

  // Only a flavor that may run the texture-fed variant prepares a texture operand (packing costs a pass).
  const texture = runsOn(textureFed, flavor) ? chooseTexture(a, b, opts, g) : null;
  splitAndEncode(a, b, out, opts, flavor, g, biasAxis, texture);
  return out;
}
