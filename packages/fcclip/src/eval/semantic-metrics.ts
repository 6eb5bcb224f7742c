/**
 * Semantic segmentation metrics as detectron2's `SemSegEvaluator` computes them (FCCLIP-SPEC §10.2): a confusion
 * matrix `conf[pred, gt]` over the dataset with ignored ground truth moved to an extra column, and mIoU averaged over
 * the classes present in the ground truth (detectron2 ≥ 2022, the version behind the paper's logs).
 */

import { FcclipError } from "../errors.js";

/** A label map that does not fit the evaluation: a class outside the vocabulary or a size mismatch. */
export class SemSegFormatError extends FcclipError {
  override name = "SemSegFormatError";
}

/** `[pred, gt, pixels]` triples: one image's confusion matrix without its zeros (what per-image results store). */
export type SparseConfusion = [number, number, number][];

export class SemSegConfusion {
  /** (K+1)² counts, row = prediction, column = ground truth; the last column holds ignored pixels. */
  readonly counts: Float64Array;

  constructor(
    readonly numClasses: number,
    readonly ignoreLabel = 255,
  ) {
    this.counts = new Float64Array((numClasses + 1) ** 2);
  }

  /** Adds one image: predicted class and ground-truth label per pixel. */
  add(pred: ArrayLike<number>, gt: ArrayLike<number>, imageId: string | number = "?"): void {
    const K = this.numClasses;
    if (pred.length !== gt.length)
      throw new SemSegFormatError(
        `image ${imageId}: the prediction has ${pred.length} pixels, the ground truth ${gt.length}`,
      );
    for (let i = 0; i < pred.length; i++) {
      const p = pred[i]!;
      let g = gt[i]!;
      if (g === this.ignoreLabel) g = K;
      else if (g < 0 || g >= K || !Number.isInteger(g))
        throw new SemSegFormatError(
          `image ${imageId}: ground-truth label ${g} is neither a class (0..${K - 1}) nor the ignore label ${this.ignoreLabel}`,
        );
      if (p < 0 || p >= K || !Number.isInteger(p))
        throw new SemSegFormatError(`image ${imageId}: predicted class ${p} is outside 0..${K - 1}`);
      this.counts[p * (K + 1) + g]!++;
    }
  }

  toSparse(): SparseConfusion {
    const K1 = this.numClasses + 1;
    const out: SparseConfusion = [];
    this.counts.forEach((c, i) => {
      if (c) out.push([Math.floor(i / K1), i % K1, c]);
    });
    return out;
  }

  addSparse(s: SparseConfusion): void {
    const K1 = this.numClasses + 1;
    for (const [p, g, c] of s) {
      if (p >= this.numClasses || g > this.numClasses)
        throw new SemSegFormatError(`a stored confusion entry (${p}, ${g}) does not fit ${this.numClasses} classes`);
      this.counts[p * K1 + g]! += c;
    }
  }
}

export interface SemSegMetrics {
  mIoU: number;
  fwIoU: number;
  mACC: number;
  pACC: number;
  /** Per class; NaN where the class has no ground-truth pixel (detectron2 reports nan). */
  IoU: number[];
  ACC: number[];
}

/** detectron2's `SemSegEvaluator.evaluate` on a confusion matrix (fractions; detectron2 prints them ×100). */
export function semSegMetrics(conf: SemSegConfusion): SemSegMetrics {
  const K = conf.numClasses;
  const K1 = K + 1;
  const c = conf.counts;
  const tp = new Float64Array(K);
  const posGt = new Float64Array(K);
  const posPred = new Float64Array(K);
  for (let p = 0; p < K; p++) {
    tp[p] = c[p * K1 + p]!;
    for (let g = 0; g < K; g++) {
      const v = c[p * K1 + g]!;
      posGt[g]! += v;
      posPred[p]! += v;
    }
  }
  let totalGt = 0;
  for (const v of posGt) totalGt += v;
  const IoU = new Array<number>(K).fill(Number.NaN);
  const ACC = new Array<number>(K).fill(Number.NaN);
  let accSum = 0;
  let accN = 0;
  let iouSum = 0;
  let iouN = 0;
  let fw = 0;
  let tpSum = 0;
  for (let k = 0; k < K; k++) {
    tpSum += tp[k]!;
    if (posGt[k]! <= 0) continue;
    ACC[k] = tp[k]! / posGt[k]!;
    accSum += ACC[k]!;
    accN++;
    const union = posGt[k]! + posPred[k]! - tp[k]!;
    if (union <= 0) continue;
    IoU[k] = tp[k]! / union;
    iouSum += IoU[k]!;
    iouN++;
    fw += IoU[k]! * (posGt[k]! / totalGt);
  }
  return { mIoU: iouSum / iouN, fwIoU: fw, mACC: accSum / accN, pACC: tpSum / totalGt, IoU, ACC };
}
