import { type ByteSource, type HostTensor, openStateDict, type StateDict, type StoredDType } from "@fcclip/tensor-core";
import {
  type ArchitectureConfig,
  expectedShapes,
  type FcclipArchitecture,
  inferArchitecture,
  OPTIONAL_KEY,
} from "./architecture.js";
import { WeightsMismatchError } from "./errors.js";

export const CLIP_PREFIX = "backbone.clip_model.";

/** What a file turned out to be. */
export type WeightsLayout = "fcclip" | "fcclip-with-clip" | "open_clip";

export interface LoadedFile {
  name: string;
  layout: WeightsLayout;
  keys: number;
  skipped: readonly string[];
}

/** The assembled, validated FC-CLIP weights; tensors are read from their files on demand. */
export interface FcclipWeights {
  readonly architecture: FcclipArchitecture;
  readonly files: readonly LoadedFile[];
  keys(): string[];
  info(key: string): { dtype: StoredDType; shape: number[] };
  read(key: string): Promise<HostTensor>;
  close(): Promise<void>;
}

function detect(sd: StateDict): { layout: WeightsLayout; rename: (k: string) => string } {
  const keys = sd.keys();
  const isHead = keys.some((k) => k.startsWith("sem_seg_head.") || k === "void_embedding.weight");
  if (isHead) {
    return { layout: keys.some((k) => k.startsWith(CLIP_PREFIX)) ? "fcclip-with-clip" : "fcclip", rename: (k) => k };
  }
  // open_clip's own loader strips a DataParallel `module.` prefix; the `state_dict` wrapper is already unwrapped.
  const strip = (k: string) => (k.startsWith("module.") ? k.slice(7) : k);
  if (keys.some((k) => /^(visual\.|token_embedding\.weight$|positional_embedding$)/.test(strip(k)))) {
    return { layout: "open_clip", rename: (k) => CLIP_PREFIX + strip(k) };
  }
  throw new WeightsMismatchError(
    [],
    keys.slice(0, 8),
    [],
    `${sd.source.name} is neither an FC-CLIP checkpoint (sem_seg_head.* keys) nor open_clip CLIP weights (visual.*, token_embedding.weight)`,
  );
}

const definedOnly = (c: ArchitectureConfig): ArchitectureConfig =>
  Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));

/**
 * What shapes cannot tell (attention heads, deformable points), as recorded by `fcclip convert` in a bundle's
 * metadata: a bundle loads without the config files it was converted with, and its record wins over config defaults.
 */
function bundledHeads(dicts: readonly StateDict[]): ArchitectureConfig {
  for (const sd of dicts) {
    if (sd.metadata.format !== "fcclip-bundle" || !sd.metadata.architecture) continue;
    let a: FcclipArchitecture;
    try {
      a = JSON.parse(sd.metadata.architecture) as FcclipArchitecture;
    } catch {
      throw new WeightsMismatchError([], [], [], `${sd.source.name}: the bundle's architecture metadata is not JSON`);
    }
    return { heads: a.pixelDecoder?.heads, points: a.pixelDecoder?.points, textHeads: a.clip?.textHeads };
  }
  return {};
}

/**
 * Assembles FC-CLIP weights from the files users have: the released heads checkpoint (`fcclip_cocopan.pth`, no CLIP
 * keys) plus open_clip's CLIP weights (`open_clip_pytorch_model.bin` or `.safetensors`, keys prefixed with
 * `backbone.clip_model.`), or one combined file. FC-CLIP keys override CLIP keys (FCCLIP-SPEC §8.2). The result is
 * checked against the key/shape table of the architecture inferred from the weights.
 */
export async function loadFcclipWeights(
  sources: readonly ByteSource[],
  config: ArchitectureConfig = {},
): Promise<FcclipWeights> {
  const dicts = await Promise.all(sources.map((s) => openStateDict(s)));
  const detected = dicts.map((sd) => ({ sd, ...detect(sd) }));
  if (!detected.some((d) => d.layout !== "open_clip")) {
    throw new WeightsMismatchError([], [], [], "no FC-CLIP checkpoint given (the heads file, e.g. fcclip_cocopan.pth)");
  }
  const where = new Map<string, { sd: StateDict; key: string }>();
  // open_clip first, FC-CLIP overlays it.
  for (const d of [...detected].sort(
    (a, b) => (a.layout === "open_clip" ? 0 : 1) - (b.layout === "open_clip" ? 0 : 1),
  )) {
    for (const k of d.sd.keys()) where.set(d.rename(k), { sd: d.sd, key: k });
  }
  const shapes = new Map([...where].map(([k, v]) => [k, v.sd.info(v.key)!.shape] as const));
  if (![...shapes.keys()].some((k) => k.startsWith(CLIP_PREFIX))) {
    throw new WeightsMismatchError(
      [`${CLIP_PREFIX}*`],
      [],
      [],
      "the FC-CLIP checkpoint has no CLIP weights (the released checkpoints never do): also pass the CLIP it was trained " +
        "with: open_clip's convnext_large_d_320 laion2b_s29b_b131k_ft_soup weights (open_clip_pytorch_model.bin or " +
        "open_clip_model.safetensors) for the ConvNeXt-L model, OpenAI's RN50.pt / RN101.pt / RN50x4.pt / RN50x16.pt / " +
        "RN50x64.pt for the ResNet ones",
    );
  }
  const architecture = inferArchitecture(shapes, { ...definedOnly(config), ...definedOnly(bundledHeads(dicts)) });
  validate(shapes, expectedShapes(architecture));
  return {
    architecture,
    files: detected.map((d) => ({
      name: d.sd.source.name,
      layout: d.layout,
      keys: d.sd.keys().length,
      skipped: d.sd.skipped,
    })),
    keys: () => [...expectedShapes(architecture).keys()].filter((k) => where.has(k)),
    info: (key) => {
      const w = where.get(key);
      if (!w) throw new WeightsMismatchError([key], [], []);
      return w.sd.info(w.key)!;
    },
    read: async (key) => {
      const w = where.get(key);
      if (!w) throw new WeightsMismatchError([key], [], []);
      return w.sd.read(w.key);
    },
    close: async () => {
      await Promise.all(sources.map((s) => s.close?.()));
    },
  };
}

function validate(actual: ReadonlyMap<string, readonly number[]>, expected: ReadonlyMap<string, number[]>): void {
  const missing = [...expected.keys()].filter((k) => !actual.has(k) && !OPTIONAL_KEY.test(k));
  const unexpected = [...actual.keys()].filter((k) => !expected.has(k) && !OPTIONAL_KEY.test(k));
  const misshaped = [...expected]
    .filter(([k, s]) => actual.has(k) && actual.get(k)!.join(",") !== s.join(","))
    .map(([key, s]) => ({ key, expected: s, actual: [...actual.get(key)!] }));
  if (missing.length || unexpected.length || misshaped.length) {
    throw new WeightsMismatchError(
      missing,
      unexpected,
      misshaped,
      misshaped.some((m) => m.key.includes("sampling_offsets"))
        ? "mis-shaped deformable-attention weights usually mean MODEL.MASK_FORMER.NHEADS differs from the checkpoint's"
        : "",
    );
  }
}
