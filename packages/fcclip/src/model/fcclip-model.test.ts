import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesSource, fileSource, SafetensorsFile, toFloat32 } from "@fcclip/tensor-core";
import { ClipTokenizer } from "@fcclip/text-encoder";
import { describe, expect, test } from "vitest";
import { testEngine } from "../../../tensor-core/src/testing/harness.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { decodeImage } from "../image/decode.js";
import { seenMask } from "../vocabulary/vocabulary.js";
import { loadVocabulary } from "../vocabulary/vocabulary-files.js";
import { loadFcclipWeights } from "../weights/load.js";
import { FcclipModel } from "./fcclip-model.js";

const TINY = join(SHARED, "oracle", "tiny");
const RUN = join(TINY, "runs", "chelsea", "coco_panoptic");

describe.skipIf(!HAS_SHARED)(`FC-CLIP end to end on the oracle (${HAS_SHARED ? "chelsea × COCO" : NO_SHARED})`, () => {
  test("heads .pth + open_clip .bin → panoptic, semantic and instance outputs equal the official ones", async () => {
    const e = await testEngine();
    const sources = [
      await fileSource(join(TINY, "model", "fcclip_tiny_head.pth")),
      await fileSource(join(TINY, "model", "open_clip_tiny.bin")),
    ];
    const weights = await loadFcclipWeights(sources, { heads: 4, textHeads: 4 });
    const tokenizer = await ClipTokenizer.fromGzip(
      readFileSync(join(SHARED, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz")),
    );
    const model = await FcclipModel.load(e, weights, tokenizer, { minSize: 160, maxSize: 288 });
    await weights.close();
    const vocab = await loadVocabulary("coco_panoptic", join(SHARED, "data"));
    const seen = seenMask(vocab, new Set(vocab.classes.flatMap((c) => c.synonyms)));
    const img = decodeImage(readFileSync(join(TINY, "images", "chelsea.png")));
    const out = await model.segment(img, vocab, { seen, dump: true });
    const st = await SafetensorsFile.open(bytesSource(readFileSync(join(RUN, "tensors.safetensors"))));
    const get = async (k: string) => toFloat32(await st.read(k));

    // mask_cls within float tolerance of the official ensemble output.
    const mc = out.tensors!.get("ens.mask_cls_results")!.data;
    const want = await get("ens.mask_cls_results");
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(mc[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-3);

    // Semantic: argmax may differ only where the official top-1 and top-2 scores are within 1e-4.
    const semRef = decodeImage(readFileSync(join(RUN, "sem_seg_argmax.png")));
    const top1 = await get("out.sem_seg.top1");
    const top2 = await get("out.sem_seg.top2");
    let unexplained = 0;
    for (let i = 0; i < top1.length; i++) {
      if (out.semantic![i] !== semRef.data[i * 3] && top1[i]! - top2[i]! >= 1e-4) unexplained++;
    }
    expect(unexplained).toBe(0);

    // Panoptic: segment ids per pixel and the segments.
    const panRef = decodeImage(readFileSync(join(RUN, "panoptic_seg.png")));
    let differing = 0;
    for (let i = 0; i < out.panoptic!.ids.length; i++) if (out.panoptic!.ids[i] !== panRef.data[i * 3]) differing++;
    expect(differing).toBe(0);
    const segRef = JSON.parse(readFileSync(join(RUN, "segments_info.json"), "utf8")).segments_info;
    expect(out.panoptic!.segments).toMatchObject(segRef);

    // Instances: the same (class, score, mask) set; torch's topk(sorted=False) order is implementation-defined.
    const instRef = JSON.parse(readFileSync(join(RUN, "instances.json"), "utf8")).instances as {
      score: number;
      category_id: number;
      area: number;
      mask_rle: { counts: number[] };
    }[];
    const order = <T extends { category_id: number; score: number }>(xs: T[]) =>
      [...xs].sort((a, b) => a.category_id - b.category_id || a.score - b.score);
    const ours = order(out.instances!);
    const theirs = order(instRef);
    expect(ours.length).toBe(theirs.length);
    ours.forEach((x, i) => {
      const r = theirs[i]!;
      expect(x.category_id).toBe(r.category_id);
      expect(Math.abs(x.score - r.score)).toBeLessThan(1e-5);
      expect(x.area).toBe(r.area);
      expect(x.rle.counts).toEqual(r.mask_rle.counts);
    });
    model.dispose();
  });
});
