// The full-size reference's weights and text classifier, rebuilt without torch: the same counter hash and the same
// float64 arithmetic as tools/fullsize/make_reference.py (`uniform`, `seeded_weights`, `unit_rows`), rounded once to
// float32, so the bytes are identical (the bench checks their SHA-256 against fullsize-digest.json).
import { createHash } from "node:crypto";

export const SEED = 20231;
const LN100 = 4.605170185988092;
const LN50 = 3.912023005428146;
const SQRT12 = Math.sqrt(12);

/** n uniforms in (0, 1): lowbias32 of (index + stream offset), as make_reference.py's `uniform`. */
export function uniform(stream, n) {
  const off = ((Math.imul(stream, 0x9e3779b9) >>> 0) + SEED) >>> 0;
  const u = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let x = (j + off) >>> 0;
    x = (x ^ (x >>> 16)) >>> 0;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    x = (x ^ (x >>> 16)) >>> 0;
    u[j] = (x + 0.5) / 4294967296;
  }
  return u;
}

const FULL_STD = [
  "level_embed",
  "level_embed.weight",
  "query_feat.weight",
  "query_embed.weight",
  "void_embedding.weight",
];

/** The weights of manifest key number `index` (make_reference.py's `seeded_weights`, key by key). */
export function seededWeight(index, key, shape) {
  const numel = shape.reduce((a, b) => a * b, 1);
  const u = uniform(index, numel);
  const v = new Float64Array(numel);
  const sym = (std) => {
    const s = std * SQRT12;
    for (let i = 0; i < numel; i++) v[i] = (u[i] - 0.5) * s;
  };
  if (key.endsWith("logit_scale")) v.fill(key.startsWith("backbone.") ? LN100 : LN50);
  else if (key === "criterion.empty_weight") {
    v.fill(1);
    v[numel - 1] = 0.1;
  } else if (key.endsWith(".gamma")) for (let i = 0; i < numel; i++) v[i] = 0.05 + 0.1 * u[i];
  else if (key.endsWith("sampling_offsets.bias")) sym(2.0);
  else if (key.endsWith("token_embedding.weight")) sym(0.02);
  else if (key.endsWith("positional_embedding")) sym(0.01);
  else if (key.endsWith("text_projection")) sym(1 / Math.sqrt(shape[0]));
  else if (FULL_STD.some((s) => key.endsWith(s))) sym(1.0);
  else if (key === "sem_seg_head.pixel_decoder.mask_features.bias") sym(1.0);
  else if (key.endsWith("running_var")) {
    // BatchNorm variances are positive.
    sym(0.1);
    for (let i = 0; i < numel; i++) v[i] = 1.0 + v[i];
  } else if (shape.length === 1 && key.endsWith(".weight")) {
    sym(0.1);
    for (let i = 0; i < numel; i++) v[i] = 1.0 + v[i];
  } else if (shape.length === 1) sym(0.02);
  else {
    sym(1 / Math.sqrt(numel / shape[0]));
    if (key.startsWith("sem_seg_head.predictor.transformer_") && key.endsWith("out_proj.weight"))
      for (let i = 0; i < numel; i++) v[i] = v[i] * 0.03;
    if (
      key === "sem_seg_head.predictor.mask_embed.layers.2.weight" ||
      key === "sem_seg_head.predictor.class_embed.layers.2.weight"
    ) {
      const [rows, cols] = shape;
      const half = cols / 2;
      for (let r = 0; r < rows; r++) for (let c = half; c < cols; c++) v[r * cols + c] = -v[r * cols + c - half];
      if (key.includes("mask_embed")) for (let i = 0; i < numel; i++) v[i] = v[i] * 4.0;
    }
  }
  return Float32Array.from(v);
}

/** Seeded unit rows (the text classifier T), as make_reference.py's `unit_rows`. */
export function unitRows(stream, rows, dim) {
  const u = uniform(stream, rows * dim);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < dim; i++) {
      const x = u[r * dim + i] - 0.5;
      s += x * x;
    }
    const n = Math.sqrt(s);
    for (let i = 0; i < dim; i++) out[r * dim + i] = (u[r * dim + i] - 0.5) / n;
  }
  return out;
}

/** SHA-256 of every key's float32 bytes in manifest order (the digest's `weights_sha256`). */
export function weightsSha256(manifest) {
  const h = createHash("sha256");
  manifest.keys.forEach((k, i) => {
    h.update(new Uint8Array(seededWeight(i, k.key, k.shape).buffer));
  });
  return h.digest("hex");
}
