import { DTYPE_BYTES } from "../../dtype.js";
import type { KernelFlavor } from "../../engine.js";
import { BufferSizeError } from "../../errors.js";
import { fmtShape, sizeOf } from "../../shape.js";
import type { Tensor } from "../../tensor.js";
import { elementWindow } from "../util.js";
import { pickVariant } from "../variants.js";
import type { Geometry, TextureOperand, Tile } from "./geometry.js";
import type { MatmulOptions } from "./options.js";
import { MATMUL_VARIANTS } from "./variants.js";

/** Encodes the product whole, or in binding windows along M, N or K when an operand or the result is too large. */
export function splitAndEncode(
  a: Tensor,
  b: Tensor,
  out: Tensor,
  opts: MatmulOptions,
  flavor: KernelFlavor,
  g: Geometry,
  biasAxis: "n" | "m",
  texture: TextureOperand | null,
): void {
  const { M, N, K } = g;
  const e = a.engine;
  const batch = sizeOf(g.batchShape);
  const aBytes = DTYPE_BYTES[a.dtype];
  const bBytes = DTYPE_BYTES[b.dtype];
  const limit = e.maxBindingBytes;
  const align = e.limits.minStorageBufferOffsetAlignment;
  // An operand read from a texture is not bound as storage, so its size does not force a split.
  const aSize = texture?.side === "a" ? 0 : a.byteLength;
  const bSize = texture?.side === "b" ? 0 : b.byteLength;
  let mChunk = M;
  let nChunk = N;
  if (aSize > limit || out.byteLength > limit || bSize > limit) {
    if (batch !== 1)
      throw new BufferSizeError(`matmul: batched operands over the ${limit}-byte binding limit are not split`);
    if (aSize > limit || out.byteLength > limit) {
      if (opts.transA)
        throw new BufferSizeError(
          `matmul: a ${fmtShape(a.shape)} is over the binding limit and transposed; pass it untransposed`,
        );
      mChunk = Math.max(1, Math.floor((limit - align) / Math.max(K * aBytes, N * 4)));
    }
    if (bSize > limit && opts.transB) nChunk = Math.max(1, Math.floor((limit - align) / (K * bBytes)));
    if (bSize > limit && !opts.transB) {
      // A row-major B [K, N] over the limit is split along K; partial products accumulate into C, and the bias and
      // activation apply with the last slice (e.g. ConvNeXt fc2 on a 187 MB hidden map at 800×1216).
      if (mChunk !== M || opts.transA) {
        throw new BufferSizeError(
          `matmul: b ${fmtShape(b.shape)} is over the binding limit and a or the result is too; pass b as [N, K] with transB`,
        );
      }
      const kChunk = Math.max(4, Math.floor((limit - align) / (N * bBytes) / 4) * 4);
      for (let k0 = 0; k0 < K; k0 += kChunk) {
        const kc = Math.min(kChunk, K - k0);
        encode(a, b, opts, flavor, g, {
          mc: M,
          nc: N,
          m0: 0,
          n0: 0,
          aw: { binding: a.binding(), base: k0 },
          bw: elementWindow(b, k0 * N, kc * N),
          cw: { binding: out.binding(), base: 0 },
          rw: opts.residual ? { binding: opts.residual.binding(), base: 0 } : undefined,
          biasAxis,
          k0,
          kc,
          accumulate: k0 > 0,
          last: k0 + kc >= K,
          texture,
        });
      }
      return;
    }
  }

  for (let m0 = 0; m0 < M; m0 += mChunk) {
    const mc = Math.min(mChunk, M - m0);
    for (let n0 = 0; n0 < N; n0 += nChunk) {
      const nc = Math.min(nChunk, N - n0);
      const whole = mChunk === M && nChunk === N;
      const aw = whole ? { binding: a.binding(), base: 0 } : elementWindow(a, m0 * K, mc * K);
      const bw = whole ? { binding: b.binding(), base: 0 } : elementWindow(b, n0 * K, nc * K);
      const cWindow = (t: Tensor) =>
        whole ? { binding: t.binding(), base: 0 } : elementWindow(t, m0 * N + n0, (mc - 1) * N + nc);
      const cw = cWindow(out);
      const rw = opts.residual ? cWindow(opts.residual) : undefined;
      encode(a, b, opts, flavor, g, { mc, nc, m0, n0, aw, bw, cw, rw, biasAxis, texture });
    }
  }
}

/** One tile to the first of matmul's variants that runs it on this flavor. */
function encode(a: Tensor, b: Tensor, o: MatmulOptions, flavor: KernelFlavor, g: Geometry, t: Tile): void {
  const call = { a, b, o, g, t };
  pickVariant("matmul", MATMUL_VARIANTS, flavor, call).encode(call);
}
