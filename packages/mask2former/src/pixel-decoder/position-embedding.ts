import type { Engine, Tensor } from "@fcclip/tensor-core";

const f = Math.fround;

/**
 * PositionEmbeddingSine(num_pos_feats, temperature 10000, normalize, scale 2π) of an H×W map without padding mask →
 * [1, 2·numPosFeats, H, W] (pos_y channels, then pos_x). Computed on the CPU in float32 steps: WGSL's sin/cos and
 * division are not accurate enough for arguments up to 2π (FCCLIP-SPEC §4.3, §11.2).
 */
export function sinePositionEmbedding(H: number, W: number, numPosFeats: number): Float32Array {
  const scale = f(2 * Math.PI);
  const dimT = new Float64Array(numPosFeats);
  for (let k = 0; k < numPosFeats; k++) dimT[k] = f(10000 ** f((2 * Math.floor(k / 2)) / numPosFeats));
  const out = new Float32Array(2 * numPosFeats * H * W);
  const ny = f(H + 1e-6);
  const nx = f(W + 1e-6);
  for (let k = 0; k < numPosFeats; k++) {
    const trig = k % 2 === 0 ? Math.sin : Math.cos;
    for (let i = 0; i < H; i++) {
      const y = f(f(f(i + 1) / ny) * scale);
      const vy = f(trig(f(y / dimT[k]!)));
      for (let j = 0; j < W; j++) {
        const x = f(f(f(j + 1) / nx) * scale);
        out[(k * H + i) * W + j] = vy;
        out[((numPosFeats + k) * H + i) * W + j] = f(trig(f(x / dimT[k]!)));
      }
    }
  }
  return out;
}

/** Upload helper with a per-engine cache keyed by map size: the embedding depends on the shape only. */
const caches = new WeakMap<Engine, Map<string, Tensor>>();

export function positionEmbedding(engine: Engine, H: number, W: number, numPosFeats: number): Tensor {
  let cache = caches.get(engine);
  if (!cache) {
    cache = new Map();
    caches.set(engine, cache);
  }
  const key = `${H}x${W}x${numPosFeats}`;
  let t = cache.get(key);
  if (!t || t.disposed) {
    t = engine.keep(engine.tensor(sinePositionEmbedding(H, W, numPosFeats), [1, 2 * numPosFeats, H, W]));
    cache.set(key, t);
  }
  return t;
}
