// The metric library against fixtures/eval_metrics.json: synthetic datasets whose expected metrics come from an
// independent NumPy implementation on dense masks (fixtures/generate_eval.py).
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { type CocoDetection, type CocoGroundTruth, evaluateImage, maskAp } from "./coco-mask-ap.js";
import {
  addPqStat,
  type PanopticCategory,
  type PanopticSegmentInfo,
  type PqStat,
  pqAverage,
  pqComputeSingle,
} from "./panoptic-quality.js";
import { SemSegConfusion, semSegMetrics } from "./semantic-metrics.js";

interface Case {
  name: string;
  categories: (PanopticCategory & { seen: boolean })[];
  ignoreLabel: number;
  images: {
    id: number;
    height: number;
    width: number;
    gt: number[];
    segments: PanopticSegmentInfo[];
    pred: number[];
    predSegments: PanopticSegmentInfo[];
    semGt: number[];
    semPred: number[];
    instancesGt: (Omit<CocoGroundTruth, "iscrowd"> & { iscrowd: number })[];
    detections: CocoDetection[];
  }[];
  expected: {
    pq: Record<string, { pq: number | null; sq: number | null; rq: number | null; n: number }> & {
      perClass: [number, number, number][];
    };
    semantic: {
      mIoU: number;
      fwIoU: number;
      mACC: number;
      pACC: number;
      IoU: (number | null)[];
      ACC: (number | null)[];
    };
    maskAp: Record<string, number | null> & { perClass: (number | null)[] };
  };
}

const fixture = JSON.parse(readFileSync(new URL("../../fixtures/eval_metrics.json", import.meta.url), "utf8")) as {
  cases: Case[];
};

function unruns(r: number[], n: number): Int32Array {
  const out = new Int32Array(n);
  let p = 0;
  for (let i = 0; i < r.length; i += 2) {
    out.fill(r[i]!, p, p + r[i + 1]!);
    p += r[i + 1]!;
  }
  expect(p).toBe(n);
  return out;
}

/** Equal within 1e-12, NaN standing for the reference's null (no category to average). */
function close(actual: number, expected: number | null, what: string) {
  if (expected === null) expect(actual, what).toBeNaN();
  else expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThan(1e-12);
}

describe.each(fixture.cases)("$name", (c) => {
  test("PQ, SQ, RQ: all, things, stuff, seen, unseen and per class", () => {
    const ids = new Set(c.categories.map((x) => x.id));
    const stat: PqStat = new Map();
    for (const im of c.images) {
      const n = im.height * im.width;
      addPqStat(
        stat,
        pqComputeSingle(
          { ids: unruns(im.gt, n), segments: im.segments },
          { ids: unruns(im.pred, n), segments: im.predSegments },
          ids,
          im.id,
        ),
      );
    }
    const subsets: [string, (x: Case["categories"][number]) => boolean][] = [
      ["All", () => true],
      ["Things", (x) => x.isthing],
      ["Stuff", (x) => !x.isthing],
      ["Seen", (x) => x.seen],
      ["Unseen", (x) => !x.seen],
    ];
    for (const [label, include] of subsets) {
      const r = pqAverage(stat, c.categories, (x) => include(x as Case["categories"][number]));
      const e = c.expected.pq[label]!;
      expect(r.n, label).toBe(e.n);
      close(r.pq, e.pq, `${label} PQ`);
      close(r.sq, e.sq, `${label} SQ`);
      close(r.rq, e.rq, `${label} RQ`);
      if (label === "All")
        c.categories.forEach((cat, k) => {
          const [pq, sq, rq] = c.expected.pq.perClass[k]!;
          const got = r.perClass.get(cat.id)!;
          close(got.pq, pq, `PQ ${cat.name}`);
          close(got.sq, sq, `SQ ${cat.name}`);
          close(got.rq, rq, `RQ ${cat.name}`);
        });
    }
  });

  test("mIoU, fwIoU, mACC, pACC and per-class IoU / accuracy", () => {
    const conf = new SemSegConfusion(c.categories.length, c.ignoreLabel);
    for (const im of c.images) {
      const n = im.height * im.width;
      conf.add(unruns(im.semPred, n), unruns(im.semGt, n), im.id);
    }
    // Per-image sparse confusions (what per-image result files hold) add up to the same matrix.
    const again = new SemSegConfusion(c.categories.length, c.ignoreLabel);
    again.addSparse(conf.toSparse());
    expect(again.counts).toEqual(conf.counts);
    const m = semSegMetrics(conf);
    const e = c.expected.semantic;
    for (const k of ["mIoU", "fwIoU", "mACC", "pACC"] as const) close(m[k], e[k], k);
    for (const [k, v] of m.IoU.entries()) close(v, e.IoU[k]!, `IoU ${k}`);
    for (const [k, v] of m.ACC.entries()) close(v, e.ACC[k]!, `ACC ${k}`);
  });

  test("mask AP, AP50, AP75, APs/m/l and per-class AP", () => {
    const perImage = c.images.map((im) =>
      evaluateImage(
        im.instancesGt.map((g) => ({ ...g, iscrowd: g.iscrowd === 1 })),
        im.detections,
      ),
    );
    const r = maskAp(
      perImage,
      c.categories.map((x) => x.id),
    );
    for (const k of ["AP", "AP50", "AP75", "APs", "APm", "APl"] as const) close(r[k], c.expected.maskAp[k]!, k);
    for (const [k, cat] of c.categories.entries())
      close(r.perClass.get(cat.id)!, c.expected.maskAp.perClass[k]!, `AP ${cat.name}`);
  });
});
