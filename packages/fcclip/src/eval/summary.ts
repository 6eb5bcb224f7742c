/**
 * Dataset metrics from per-image records, reported like detectron2's evaluators (percent; per-class entries by
 * category name), plus PQ over the vocabulary's seen and unseen classes (FC-CLIP's Tab. 6 split).
 */

import { maskAp } from "./coco-mask-ap.js";
import { compareIds } from "./dataset-layouts.js";
import type { ImageRecord } from "./image-evaluation.js";
import { addPqStat, type PanopticCategory, type PqStat, pqAverage } from "./panoptic-quality.js";
import { SemSegConfusion, semSegMetrics } from "./semantic-metrics.js";

export interface SummaryCategory extends PanopticCategory {
  /** Named by the training (COCO panoptic) vocabulary: FCCLIP-SPEC §6.4. */
  seen: boolean;
}

/** NaN (nothing to average) becomes null in JSON; everything else is ×100 like detectron2. */
const pct = (v: number) => (Number.isNaN(v) ? null : 100 * v);

export interface DatasetMetrics {
  panoptic?: Record<string, unknown>;
  semantic?: Record<string, unknown>;
  instance?: Record<string, unknown>;
}

/** Per-class keys: the category's name, with its id added where names repeat (A-847 has two "bag" classes). */
function classKeys(categories: readonly SummaryCategory[]): string[] {
  const count = new Map<string, number>();
  for (const c of categories) count.set(c.name, (count.get(c.name) ?? 0) + 1);
  return categories.map((c) => (count.get(c.name)! > 1 ? `${c.name} (${c.id})` : c.name));
}

/** Metrics of the records (any order; AP visits images sorted by id as pycocotools does). */
export function summarize(records: readonly ImageRecord[], categories: readonly SummaryCategory[]): DatasetMetrics {
  const sorted = [...records].sort((a, b) => compareIds(a.image_id, b.image_id));
  const out: DatasetMetrics = {};
  const keys = classKeys(categories);
  if (sorted.some((r) => r.panoptic)) {
    const stat: PqStat = new Map();
    for (const r of sorted)
      addPqStat(stat, new Map((r.panoptic ?? []).map(([c, iou, tp, fp, fn]) => [c, { iou, tp, fp, fn }])));
    const res: Record<string, unknown> = {};
    const subsets: [string, (c: SummaryCategory) => boolean][] = [
      ["", () => true],
      ["_th", (c) => c.isthing],
      ["_st", (c) => !c.isthing],
      ["_seen", (c) => c.seen],
      ["_unseen", (c) => !c.seen],
    ];
    const n: Record<string, number> = {};
    for (const [suffix, include] of subsets) {
      const a = pqAverage(stat, categories, (c) => include(c as SummaryCategory));
      res[`PQ${suffix}`] = pct(a.pq);
      res[`SQ${suffix}`] = pct(a.sq);
      res[`RQ${suffix}`] = pct(a.rq);
      n[suffix ? suffix.slice(1) : "all"] = a.n;
      if (!suffix)
        res.per_class = Object.fromEntries(
          categories.map((c, k) => {
            const p = a.perClass.get(c.id)!;
            return [keys[k], { PQ: 100 * p.pq, SQ: 100 * p.sq, RQ: 100 * p.rq }];
          }),
        );
    }
    res.categories_averaged = n;
    out.panoptic = res;
  }
  if (sorted.some((r) => r.semantic)) {
    const conf = new SemSegConfusion(categories.length);
    for (const r of sorted) if (r.semantic) conf.addSparse(r.semantic);
    const m = semSegMetrics(conf);
    out.semantic = {
      mIoU: pct(m.mIoU),
      fwIoU: pct(m.fwIoU),
      mACC: pct(m.mACC),
      pACC: pct(m.pACC),
      IoU: Object.fromEntries(keys.map((key, k) => [key, pct(m.IoU[k]!)])),
      ACC: Object.fromEntries(keys.map((key, k) => [key, pct(m.ACC[k]!)])),
    };
  }
  if (sorted.some((r) => r.instances)) {
    const things = categories.map((c, k) => ({ ...c, key: keys[k]! })).filter((c) => c.isthing);
    const r = maskAp(
      sorted.map((x) => x.instances ?? []),
      things.map((c) => c.id),
    );
    out.instance = {
      AP: pct(r.AP),
      AP50: pct(r.AP50),
      AP75: pct(r.AP75),
      APs: pct(r.APs),
      APm: pct(r.APm),
      APl: pct(r.APl),
      per_class: Object.fromEntries(things.map((c) => [c.key, pct(r.perClass.get(c.id)!)])),
    };
  }
  return out;
}
