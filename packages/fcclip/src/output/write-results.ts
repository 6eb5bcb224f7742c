import type { RgbImage } from "@fcclip/clip";
import type { Segmentation } from "../postprocess/inference.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import { classColor, renderOverlay } from "./overlay.js";
import { encodePng } from "./png.js";

/** The files written for one image, by suffix (e.g. ".panoptic.png"), as bytes. */
export type OutputFiles = Map<string, Uint8Array>;

function bboxes(ids: Int32Array, width: number, count: number): [number, number, number, number][] {
  const box = Array.from({ length: count }, () => [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, -1, -1]);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!id) continue;
    const b = box[id - 1]!;
    const x = i % width;
    const y = (i / width) | 0;
    b[0] = Math.min(b[0]!, x);
    b[1] = Math.min(b[1]!, y);
    b[2] = Math.max(b[2]!, x);
    b[3] = Math.max(b[3]!, y);
  }
  return box.map(([x0, y0, x1, y1]) => (x1! < 0 ? [0, 0, 0, 0] : [x0!, y0!, x1! - x0! + 1, y1! - y0! + 1]));
}

/**
 * Serialises a segmentation as the CLI's files: `.panoptic.png` (COCO panoptic id = R + 256·G + 256²·B, 0 = void),
 * `.json` (image size, segments with names/scores/areas/boxes, the class list), `.semantic.png` (class per pixel,
 * 16-bit when there are more than 255 classes; 255/65535 = none), `.instances.json` (COCO RLE masks), `.overlay.png`
 * (with a legend beside the image unless `legend` is false).
 */
export async function resultFiles(
  image: RgbImage,
  file: string,
  seg: Segmentation,
  vocab: Vocabulary,
  options: { legend?: boolean } = {},
): Promise<OutputFiles> {
  const files: OutputFiles = new Map();
  const { width, height } = seg;
  const enc = (o: unknown) => new TextEncoder().encode(`${JSON.stringify(o, null, 2)}\n`);
  const names = vocab.classes.map((c) => c.name);
  const json: Record<string, unknown> = { image: { file, height, width }, vocabulary: vocab.name, classes: names };
  if (seg.panoptic) {
    const { ids, segments } = seg.panoptic;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      rgb[i * 3] = id & 255;
      rgb[i * 3 + 1] = (id >>> 8) & 255;
      rgb[i * 3 + 2] = (id >>> 16) & 255;
    }
    files.set(".panoptic.png", await encodePng(width, height, 3, rgb));
    const boxes = bboxes(ids, width, segments.length);
    json.segments = segments.map((s, i) => ({
      id: s.id,
      category_id: s.category_id,
      category: names[s.category_id],
      isthing: s.isthing,
      score: s.score,
      area: s.area,
      bbox: boxes[i],
    }));
  }
  files.set(".json", enc(json));
  if (seg.semantic) {
    const wide = names.length > 255;
    const data = wide ? Uint16Array.from(seg.semantic) : Uint8Array.from(seg.semantic);
    files.set(".semantic.png", await encodePng(width, height, 1, data));
  }
  if (seg.instances) {
    files.set(
      ".instances.json",
      enc({
        image: { file, height, width },
        instances: seg.instances.map((x) => ({
          score: x.score,
          category_id: x.category_id,
          category: names[x.category_id],
          area: x.area,
          mask: x.rle,
        })),
      }),
    );
  }
  const regions = new Int32Array(width * height).fill(-1);
  let legend: { label: string; color: [number, number, number] }[] = [];
  if (seg.panoptic) {
    const segs = seg.panoptic.segments;
    seg.panoptic.ids.forEach((id, i) => {
      regions[i] = id ? segs[id - 1]!.category_id : -1;
    });
    legend = segs.map((s) => ({
      label: `${names[s.category_id]} ${s.score.toFixed(2)}`,
      color: classColor(s.category_id),
    }));
  } else if (seg.semantic) {
    regions.set(seg.semantic);
    legend = [...new Set(seg.semantic)].sort((a, b) => a - b).map((c) => ({ label: names[c]!, color: classColor(c) }));
  }
  // Without the legend the overlay keeps the image's size (what video frames need).
  const overlay = renderOverlay(image, regions, classColor, options.legend === false ? [] : legend);
  files.set(".overlay.png", await encodePng(overlay.width, overlay.height, 3, overlay.data));
  return files;
}
