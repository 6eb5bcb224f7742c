import { parse as parseYaml } from "yaml";
import { FcclipError } from "../errors.js";
import { DEFAULT_CONFIG, type FcclipConfig } from "../model/fcclip-config.js";
import type { Task } from "../postprocess/inference.js";

/** A config file or override that cannot be used. */
export class ConfigError extends FcclipError {
  override name = "ConfigError";
}

type Tree = Record<string, unknown>;

/** detectron2 keys this implementation reads, with the official FC-CLIP eval defaults. */
const KNOWN: Record<string, unknown> = {
  "INPUT.MIN_SIZE_TEST": DEFAULT_CONFIG.minSize,
  "INPUT.MAX_SIZE_TEST": DEFAULT_CONFIG.maxSize,
  "MODEL.MASK_FORMER.SIZE_DIVISIBILITY": DEFAULT_CONFIG.sizeDivisibility,
  "MODEL.FC_CLIP.GEOMETRIC_ENSEMBLE_ALPHA": DEFAULT_CONFIG.alpha,
  "MODEL.FC_CLIP.GEOMETRIC_ENSEMBLE_BETA": DEFAULT_CONFIG.beta,
  // null: as the official config of the weights' CLIP family (True for the ResNet configs, False for ConvNeXt).
  "MODEL.FC_CLIP.ENSEMBLE_ON_VALID_MASK": null,
  "MODEL.MASK_FORMER.TEST.OVERLAP_THRESHOLD": DEFAULT_CONFIG.overlapThreshold,
  "MODEL.MASK_FORMER.TEST.OBJECT_MASK_THRESHOLD": DEFAULT_CONFIG.objectMaskThreshold,
  "TEST.DETECTIONS_PER_IMAGE": DEFAULT_CONFIG.detectionsPerImage,
  "MODEL.MASK_FORMER.NHEADS": 8,
  "MODEL.MASK_FORMER.TEST.SEMANTIC_ON": true,
  "MODEL.MASK_FORMER.TEST.INSTANCE_ON": true,
  "MODEL.MASK_FORMER.TEST.PANOPTIC_ON": true,
  "MODEL.MASK_FORMER.TEST.SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE": false,
};

function getPath(t: Tree, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Tree)[k] : undefined), t);
}

function setPath(t: Tree, path: string, value: unknown): void {
  const keys = path.split(".");
  let o = t;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== "object") o[k] = {};
    o = o[k] as Tree;
  }
  o[keys[keys.length - 1]!] = value;
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && out[k] && typeof out[k] === "object"
        ? merge(out[k] as Tree, v as Tree)
        : v;
  }
  return out;
}

/** Where config files come from: the file system under Node, URLs (or picked files) in a browser. */
export interface ConfigSource {
  /** The file's text; a missing file is a ConfigError that names it. */
  read(path: string): Promise<string>;
  /** Where `_BASE_: base` points, seen from the file `from`. */
  resolve(from: string, base: string): string;
}

/** Config files fetched over HTTP(S); `_BASE_` is resolved like a relative link. */
export const urlConfigSource: ConfigSource = {
  async read(url) {
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new ConfigError(`cannot fetch config ${url}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new ConfigError(`cannot fetch config ${url}: HTTP ${res.status}`);
    return res.text();
  },
  resolve: (from, base) => new URL(base, new URL(from, globalThis.location?.href)).href,
};

/** Reads a detectron2 YAML config, following `_BASE_` (relative to the file) recursively. */
export async function readConfigTree(path: string, source: ConfigSource, seen = new Set<string>()): Promise<Tree> {
  if (seen.has(path)) throw new ConfigError(`${path}: _BASE_ cycle`);
  seen.add(path);
  const text = await source.read(path);
  let tree: Tree;
  try {
    // PyYAML (what detectron2 uses) lets a later duplicate key win; the official configs rely on that.
    tree = (parseYaml(text, { uniqueKeys: false }) ?? {}) as Tree;
  } catch (e) {
    throw new ConfigError(`${path} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!tree || typeof tree !== "object" || Array.isArray(tree)) throw new ConfigError(`${path} is not a YAML mapping`);
  const base = tree._BASE_;
  delete tree._BASE_;
  if (typeof base === "string") return merge(await readConfigTree(source.resolve(path, base), source, seen), tree);
  return tree;
}

export interface ResolvedConfig {
  fcclip: FcclipConfig;
  heads: number;
  tasks: Task[];
}

/**
 * Official defaults, then the config file (if any, read from `source`), then `--opts KEY VALUE` pairs (values parsed
 * as YAML scalars).
 */
export async function resolveConfigFrom(
  source: ConfigSource,
  file: string | undefined,
  opts: readonly [string, string][] = [],
): Promise<ResolvedConfig> {
  let tree: Tree = {};
  for (const [k, v] of Object.entries(KNOWN)) setPath(tree, k, v);
  if (file) tree = merge(tree, await readConfigTree(file, source));
  for (const [key, raw] of opts) {
    if (!(key in KNOWN) && getPath(tree, key) === undefined) throw new ConfigError(`--opts: unknown config key ${key}`);
    let value: unknown;
    try {
      value = parseYaml(raw);
    } catch {
      value = raw;
    }
    setPath(tree, key, value);
  }
  const num = (k: string) => {
    const v = getPath(tree, k);
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new ConfigError(`${k} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (k: string) => getPath(tree, k) === true;
  const int = (k: string, min: number) => {
    const v = num(k);
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`${k} must be an integer ≥ ${min}, got ${v}`);
    return v;
  };
  const tasks: Task[] = [];
  if (bool("MODEL.MASK_FORMER.TEST.PANOPTIC_ON")) tasks.push("panoptic");
  if (bool("MODEL.MASK_FORMER.TEST.SEMANTIC_ON")) tasks.push("semantic");
  if (bool("MODEL.MASK_FORMER.TEST.INSTANCE_ON")) tasks.push("instance");
  return {
    fcclip: {
      minSize: int("INPUT.MIN_SIZE_TEST", 1),
      maxSize: int("INPUT.MAX_SIZE_TEST", 1),
      sizeDivisibility: int("MODEL.MASK_FORMER.SIZE_DIVISIBILITY", 1),
      alpha: num("MODEL.FC_CLIP.GEOMETRIC_ENSEMBLE_ALPHA"),
      beta: num("MODEL.FC_CLIP.GEOMETRIC_ENSEMBLE_BETA"),
      ensembleOnValidMask:
        getPath(tree, "MODEL.FC_CLIP.ENSEMBLE_ON_VALID_MASK") == null
          ? undefined
          : bool("MODEL.FC_CLIP.ENSEMBLE_ON_VALID_MASK"),
      overlapThreshold: num("MODEL.MASK_FORMER.TEST.OVERLAP_THRESHOLD"),
      objectMaskThreshold: num("MODEL.MASK_FORMER.TEST.OBJECT_MASK_THRESHOLD"),
      detectionsPerImage: int("TEST.DETECTIONS_PER_IMAGE", 1),
      semanticBeforeInference:
        bool("MODEL.MASK_FORMER.TEST.SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE") ||
        bool("MODEL.MASK_FORMER.TEST.PANOPTIC_ON") ||
        bool("MODEL.MASK_FORMER.TEST.INSTANCE_ON"),
    },
    heads: int("MODEL.MASK_FORMER.NHEADS", 1),
    tasks,
  };
}
