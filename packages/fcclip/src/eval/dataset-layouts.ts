/**
 * Where evaluation datasets live: the layouts detectron2 registers under `$DETECTRON2_DATASETS` (and the prepare
 * scripts of Mask2Former / FC-CLIP produce), plus a generic layout for your own data.
 */

import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { FcclipError } from "../errors.js";
import type { AnyRle } from "./coco-rle.js";
import type { PanopticCategory, PanopticSegmentInfo } from "./panoptic-quality.js";

export type EvalFormat = "coco-panoptic" | "semantic" | "coco-instances";
export const EVAL_FORMATS: readonly EvalFormat[] = ["coco-panoptic", "semantic", "coco-instances"];

/** A dataset folder that does not hold a known layout, or files of it that cannot be read. */
export class DatasetError extends FcclipError {
  override name = "DatasetError";
}

interface LayoutBase {
  name: string;
  /** The folder name under $DETECTRON2_DATASETS ("" for the generic layout). */
  root: string;
  images: string;
  /** The `--vocab` that matches the categories, when FC-CLIP ships one as a preset. */
  vocab?: string;
}

export interface PanopticLayout extends LayoutBase {
  format: "coco-panoptic";
  json: string;
  pngs: string;
  /** COCO instances json with the same category ids, used for mask AP when present. */
  instances?: string;
  /**
   * The semantic label maps detectron2 registers with the panoptic set (`sem_seg_file_name`: this folder + the
   * panoptic PNG's name), used for mIoU when present; otherwise the panoptic ground truth gives the classes.
   */
  semantic?: { dir: string; ignoreLabel: number };
}

export interface SemanticLayout extends LayoutBase {
  format: "semantic";
  annotations: string;
  ignoreLabel: number;
}

export interface InstancesLayout extends LayoutBase {
  format: "coco-instances";
  json: string;
}

export type DatasetLayout = PanopticLayout | SemanticLayout | InstancesLayout;

/** Relative paths as detectron2's builtin registrations and FC-CLIP's `openvocab_*` datasets expect them. */
export const LAYOUTS: readonly DatasetLayout[] = [
  {
    name: "coco",
    format: "coco-panoptic",
    root: "coco",
    images: "val2017",
    json: "annotations/panoptic_val2017.json",
    pngs: "panoptic_val2017",
    instances: "annotations/instances_val2017.json",
    semantic: { dir: "panoptic_semseg_val2017", ignoreLabel: 255 },
    vocab: "coco_panoptic",
  },
  {
    name: "ade20k",
    format: "coco-panoptic",
    root: "ADEChallengeData2016",
    images: "images/validation",
    json: "ade20k_panoptic_val.json",
    pngs: "ade20k_panoptic_val",
    instances: "ade20k_instance_val.json",
    semantic: { dir: "annotations_detectron2/validation", ignoreLabel: 255 },
    vocab: "ade20k_150",
  },
  {
    name: "cityscapes",
    format: "coco-panoptic",
    root: "cityscapes",
    images: "leftImg8bit/val",
    json: "gtFine/cityscapes_panoptic_val.json",
    pngs: "gtFine/cityscapes_panoptic_val",
  },
  {
    name: "mapillary_vistas",
    format: "coco-panoptic",
    root: "mapillary_vistas",
    images: "validation/images",
    json: "validation/panoptic/panoptic_2018.json",
    pngs: "validation/panoptic",
    semantic: { dir: "validation/labels", ignoreLabel: 65 },
  },
  { name: "generic", format: "coco-panoptic", root: "", images: "images", json: "panoptic.json", pngs: "panoptic" },
  {
    name: "ade20k",
    format: "semantic",
    root: "ADEChallengeData2016",
    images: "images/validation",
    annotations: "annotations_detectron2/validation",
    ignoreLabel: 255,
    vocab: "ade20k_150",
  },
  {
    name: "pascal_ctx_59",
    format: "semantic",
    root: "pascal_ctx_d2",
    images: "images/validation",
    annotations: "annotations_ctx59/validation",
    ignoreLabel: 255,
  },
  {
    name: "pascal_voc_21",
    format: "semantic",
    root: "pascal_voc_d2",
    images: "images/validation",
    annotations: "annotations_pascal21/validation",
    ignoreLabel: 255,
  },
  {
    name: "mapillary_vistas",
    format: "semantic",
    root: "mapillary_vistas",
    images: "validation/images",
    annotations: "validation/labels",
    ignoreLabel: 65,
  },
  { name: "generic", format: "semantic", root: "", images: "images", annotations: "annotations", ignoreLabel: 255 },
  {
    name: "coco",
    format: "coco-instances",
    root: "coco",
    images: "val2017",
    json: "annotations/instances_val2017.json",
    vocab: "coco_panoptic",
  },
  { name: "generic", format: "coco-instances", root: "", images: "images", json: "instances.json" },
];

/** COCO-format instance annotation (polygons, or RLE with list or string counts). */
export interface CocoInstanceAnnotation {
  id?: number;
  image_id: number | string;
  category_id: number;
  iscrowd?: number;
  area: number;
  segmentation: number[][] | AnyRle;
}

export interface DatasetImage {
  id: number | string;
  /** The image file. */
  file: string;
  height?: number;
  width?: number;
  /** coco-panoptic: the ground-truth id PNG and its segments. */
  panoptic?: { png: string; segments: PanopticSegmentInfo[] };
  /** The ground-truth class PNG (semantic sets, and panoptic sets that register one). */
  semantic?: string;
  /** Instance ground truth (coco-instances, and coco-panoptic with an instances json). */
  instances?: CocoInstanceAnnotation[];
}

export interface EvalDataset {
  format: EvalFormat;
  layout: string;
  /** The folder the layout's paths start from. */
  base: string;
  /** The dataset's categories in contiguous order (the vocabulary's order); semantic sets take the vocabulary's. */
  categories?: PanopticCategory[];
  ignoreLabel: number;
  vocab?: string;
  /** Sorted by id, as pycocotools orders images. */
  images: DatasetImage[];
  /** What the user should know about how the files are used. */
  notes: string[];
}

const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png"];

export function compareIds(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new DatasetError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** An image's file: `images/<file_name>`, or `images/<city>/<file_name>` as Cityscapes nests them. */
function imagePath(dir: string, fileName: string): string {
  const flat = join(dir, fileName);
  if (existsSync(flat)) return flat;
  const nested = join(dir, fileName.split("_")[0]!, fileName);
  return existsSync(nested) ? nested : flat;
}

function cocoCategories(json: Record<string, unknown>, path: string): PanopticCategory[] {
  const cats = json.categories as { id: number; name: string; isthing?: number }[] | undefined;
  if (!Array.isArray(cats) || cats.length === 0) throw new DatasetError(`${path} has no "categories"`);
  return cats.map((c) => ({ id: c.id, name: c.name, isthing: c.isthing === undefined ? true : c.isthing === 1 }));
}

function instancesByImage(json: Record<string, unknown>): Map<number | string, CocoInstanceAnnotation[]> {
  const by = new Map<number | string, CocoInstanceAnnotation[]>();
  for (const a of (json.annotations ?? []) as CocoInstanceAnnotation[]) {
    const list = by.get(a.image_id) ?? [];
    list.push(a);
    by.set(a.image_id, list);
  }
  return by;
}

/**
 * The dataset under `dir` in `format`: `dir` is `$DETECTRON2_DATASETS` (holding `coco/`, `ADEChallengeData2016/`, …)
 * or one dataset's own folder. `layout` picks a layout by name; otherwise the first whose files exist.
 */
export async function openDataset(dir: string, format: EvalFormat, layout?: string): Promise<EvalDataset> {
  const candidates = LAYOUTS.filter((l) => l.format === format && (!layout || l.name === layout));
  if (candidates.length === 0)
    throw new DatasetError(
      `no ${format} layout named '${layout}' (known: ${LAYOUTS.filter((l) => l.format === format)
        .map((l) => l.name)
        .join(", ")})`,
    );
  const marker = (l: DatasetLayout) => (l.format === "semantic" ? l.annotations : l.json);
  for (const l of candidates) {
    for (const base of l.root ? [join(dir, l.root), dir] : [dir]) {
      if (existsSync(join(base, marker(l))) && existsSync(join(base, l.images))) return load(l, base);
    }
  }
  throw new DatasetError(
    `${dir} holds no ${format} dataset; expected one of: ${candidates
      .map((l) => `${l.root ? `[${l.root}/]` : ""}${marker(l)} + ${l.images}/`)
      .join("; ")} (see the README, "fcclip eval")`,
  );
}

async function load(l: DatasetLayout, base: string): Promise<EvalDataset> {
  const imagesDir = join(base, l.images);
  if (l.format === "semantic") {
    const annDir = join(base, l.annotations);
    const names = (await readdir(annDir)).sort();
    const tiff = names.find((n) => /\.tiff?$/i.test(n));
    if (tiff)
      throw new DatasetError(
        `${join(annDir, tiff)}: TIFF label maps (A-847, PC-459) are not read; convert them to 16-bit PNG (mode "I;16")`,
      );
    const stems = new Map((await readdir(imagesDir)).map((n) => [n.slice(0, -extname(n).length), n]));
    const images: DatasetImage[] = [];
    for (const n of names.filter((x) => extname(x).toLowerCase() === ".png")) {
      const stem = n.slice(0, -4);
      const img = stems.get(stem);
      if (!img || !IMAGE_EXTENSIONS.includes(extname(img).toLowerCase()))
        throw new DatasetError(`${join(annDir, n)} has no image ${stem}.jpg/.png in ${imagesDir}`);
      images.push({ id: stem, file: join(imagesDir, img), semantic: join(annDir, n) });
    }
    if (images.length === 0) throw new DatasetError(`${annDir} holds no PNG label maps`);
    return { format: l.format, layout: l.name, base, ignoreLabel: l.ignoreLabel, vocab: l.vocab, images, notes: [] };
  }
  const jsonPath = join(base, l.json);
  const json = await readJson(jsonPath);
  const meta = new Map(
    ((json.images ?? []) as { id: number | string; file_name: string; height?: number; width?: number }[]).map((i) => [
      i.id,
      i,
    ]),
  );
  const categories = cocoCategories(json, jsonPath);
  const instancesPath = l.format === "coco-panoptic" && l.instances ? join(base, l.instances) : undefined;
  const notes: string[] = [];
  let instances = l.format === "coco-instances" ? instancesByImage(json) : undefined;
  if (instancesPath && existsSync(instancesPath)) {
    const inst = await readJson(instancesPath);
    // Its objects count only if its category ids are the panoptic ones (detectron2 maps predictions back through
    // the panoptic metadata); otherwise AP would compare unrelated classes.
    const byId = new Map(categories.map((c) => [c.id, c.name.toLowerCase()]));
    const clash = cocoCategories(inst, instancesPath).find((c) => byId.get(c.id) !== c.name.toLowerCase());
    if (clash)
      notes.push(
        `${instancesPath} is not used: its category ${clash.id} is '${clash.name}', the panoptic json's is '${byId.get(clash.id) ?? "absent"}'; mask AP uses the panoptic ground truth's things`,
      );
    else instances = instancesByImage(inst);
  }
  const images: DatasetImage[] = [];
  const semanticDir = l.format === "coco-panoptic" && l.semantic ? join(base, l.semantic.dir) : undefined;
  const withSemantic = semanticDir !== undefined && existsSync(semanticDir);
  if (l.format === "coco-panoptic") {
    const anns = (json.annotations ?? []) as {
      image_id: number | string;
      file_name: string;
      segments_info: PanopticSegmentInfo[];
    }[];
    for (const a of anns) {
      const m = meta.get(a.image_id);
      if (!m) throw new DatasetError(`${jsonPath}: annotation of image ${a.image_id} has no entry in "images"`);
      images.push({
        id: a.image_id,
        file: imagePath(imagesDir, m.file_name),
        height: m.height,
        width: m.width,
        panoptic: { png: join(base, l.pngs, a.file_name), segments: a.segments_info },
        semantic: withSemantic ? join(semanticDir, a.file_name) : undefined,
        instances: instances ? (instances.get(a.image_id) ?? []) : undefined,
      });
    }
  } else {
    for (const m of meta.values())
      images.push({
        id: m.id,
        file: imagePath(imagesDir, m.file_name),
        height: m.height,
        width: m.width,
        instances: instances?.get(m.id) ?? [],
      });
  }
  if (images.length === 0) throw new DatasetError(`${jsonPath} lists no annotated images`);
  images.sort((a, b) => compareIds(a.id, b.id));
  const ignoreLabel = withSemantic && l.format === "coco-panoptic" ? l.semantic!.ignoreLabel : 255;
  return { format: l.format, layout: l.name, base, categories, ignoreLabel, vocab: l.vocab, images, notes };
}
