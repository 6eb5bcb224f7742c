import { TensorCoreError } from "@fcclip/tensor-core";
import { TextEncoderError } from "@fcclip/text-encoder";
import { defaultCacheDir } from "../cache/directory-store.js";
import { FcclipError } from "../errors.js";
import { EVAL_FORMATS, type EvalFormat } from "../eval/dataset-layouts.js";
import { classify } from "./classify.js";
import { clipConfigHeads, convert } from "./convert.js";
import { evaluate, mergeEval, parseShard } from "./eval.js";
import { segment } from "./segment.js";
import { UsageError } from "./usage-error.js";

const MODEL_OPTIONS = `      --weights FILE        FC-CLIP checkpoint (fcclip_cocopan.pth), a combined file, or a bundle
      --clip-weights FILE   the CLIP, when --weights has no backbone.clip_model.* keys: open_clip weights
                            (ConvNeXt-L) or OpenAI's RN50.pt / RN101.pt / RN50x4.pt / RN50x16.pt / RN50x64.pt
      --clip-config FILE    open_clip model config JSON, when the text head count is not width/64
      --config-file FILE    detectron2 YAML config (_BASE_ followed); --opts KEY VALUE ... overrides
      --data-dir DIR        FC-CLIP data: vocab/, vocab/meta/, tokenizer/ (default: $FCCLIP_DATA or ./data)
      --cache-dir DIR       where encoded vocabularies are kept between runs (default: ~/.cache/fcclip)
      --no-cache            encode the vocabulary again and keep nothing
`;

/** Each command's help, printed by `fcclip <command> --help` and together by `fcclip --help`. */
export const COMMAND_HELP: Record<string, string> = {
  convert: `  convert   official FC-CLIP weights -> one model bundle (<output>.safetensors + <output>.json)
      --weights FILE        FC-CLIP checkpoint (fcclip_cocopan.pth, heads only) or a combined file
      --clip-weights FILE   the CLIP: open_clip_pytorch_model.bin / open_clip_model.safetensors (ConvNeXt-L), or
                            OpenAI's RN50.pt / RN101.pt / RN50x4.pt / RN50x16.pt / RN50x64.pt (ResNet models)
      --clip-config FILE    open_clip model config JSON, when the text head count is not width/64
      --output PREFIX       where to write the bundle
      --f16                 store the CLIP matrices as float16 (about half the size; the heads, vectors and scalars stay float32)
      --opts KEY VALUE ...  detectron2 config overrides (MODEL.MASK_FORMER.NHEADS)
`,
  segment: `  segment   open-vocabulary panoptic / semantic / instance segmentation
${MODEL_OPTIONS}      --vocab V             coco_panoptic | ade20k_150 | a *_with_prompt_eng.txt file | "cat,kitty;stuff:sky"
      --input PATH ...      PNG or JPEG images: files, folders (their PNG/JPEG files) or globs (*.jpg)
      --video-input FILE    a video, through ffmpeg: <stem>.frames/<frame>.json and <stem>.overlay.mp4
      --output DIR          where <stem>.panoptic.png, .json, .semantic.png, .instances.json, .overlay.png go
      --task T              panoptic | semantic | instance | all (default: what the config enables)
      --confidence-threshold S  keep only instances scoring at least S in .instances.json (default: all 100)
      --dump-tensors        also write <stem>.tensors.safetensors with intermediates under the oracle's names
      --verbose             print per-stage timings
      --profile             time every GPU dispatch: per stage, op kind and shape, cold (first image) and warm;
                            printed, and written to <stem>.profile.json
`,
  eval: `  eval      PQ / mIoU / mask AP on a dataset (the model's predictions, or existing ones with --predictions)
      --dataset DIR         $DETECTRON2_DATASETS (coco/, ADEChallengeData2016/, ...) or one dataset's folder
                            (default: $DETECTRON2_DATASETS, else ./datasets)
      --format F            coco-panoptic (PQ, mIoU, AP) | semantic (mIoU) | coco-instances (mask AP)
      --layout NAME         pick a layout (coco, ade20k, cityscapes, mapillary_vistas, pascal_ctx_59, pascal_voc_21,
                            generic) instead of the first one found
      --vocab V             the dataset's classes in its category order (default: the layout's preset)
      --output DIR          run.json, images/<id>.json (one record per image), metrics.json, failed*.json
      --predictions DIR     score fcclip segment results in DIR instead of running the model
${MODEL_OPTIONS}      --resume              skip images whose record is already in --output
      --shard I/N           evaluate images i with i mod N = I (one machine of N); combine with --merge
      --merge DIR ...       the metrics of shard output folders (into --output, default the first folder)
`,
  classify: `  classify  zero-shot image classification with a CLIP (ConvNeXt or ResNet, read off the weights)
      --clip-weights FILE   open_clip weights, OpenAI's RN*.pt, or FC-CLIP weights holding backbone.clip_model.*
      --bpe FILE            CLIP's bpe_simple_vocab_16e6.txt.gz
      --labels "a,b,c"      the labels, comma-separated
      --clip-config FILE    open_clip model config JSON, when the text head count is not width/64
      --template T          a prompt template with {} (repeatable; default: FC-CLIP's 14)
      --json                print JSON instead of text
      IMAGE ...             PNG or JPEG files
`,
};

const HELP = `usage: fcclip <command> [options]     (fcclip <command> --help: that command only)

commands:
${Object.values(COMMAND_HELP).join("")}`;

const VALUED_CLASSIFY = new Set(["--clip-weights", "--bpe", "--labels", "--clip-config", "--template"]);

interface Parsed {
  flags: Map<string, string | true>;
  opts: [string, string][];
  /** Values of options that take a list (--input, --merge): everything up to the next option. */
  lists: Map<string, string[]>;
}

const LISTS = new Set(["--input", "--merge"]);

function parse(argv: readonly string[], valued: ReadonlySet<string>, booleans: ReadonlySet<string>): Parsed {
  const flags = new Map<string, string | true>();
  const opts: [string, string][] = [];
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (LISTS.has(a) && valued.has(a)) {
      const values = lists.get(a) ?? [];
      const before = values.length;
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) values.push(argv[++i]!);
      if (values.length === before) throw new UsageError(`${a} needs at least one value`);
      lists.set(a, values);
    } else if (a === "--opts") {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) {
        const key = argv[++i]!;
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`--opts ${key} has no value (give KEY VALUE pairs)`);
        opts.push([key, value]);
      }
    } else if (valued.has(a)) {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
      flags.set(a, v);
    } else if (booleans.has(a)) {
      flags.set(a, true);
    } else {
      throw new UsageError(`unknown option ${a}`);
    }
  }
  return { flags, opts, lists };
}

const MODEL_VALUED = ["--weights", "--clip-weights", "--clip-config", "--config-file", "--data-dir", "--cache-dir"];

/** The options shared by the commands that load the model. */
async function modelArgs(flags: Map<string, string | true>, opts: [string, string][]) {
  const str = (f: string) => flags.get(f) as string | undefined;
  const clipConfig = str("--clip-config");
  return {
    clipWeights: str("--clip-weights"),
    textHeads: clipConfig ? await clipConfigHeads(clipConfig) : undefined,
    configFile: str("--config-file"),
    opts,
    dataDir: str("--data-dir") ?? process.env.FCCLIP_DATA ?? "data",
    cacheDir: flags.has("--no-cache") ? null : (str("--cache-dir") ?? defaultCacheDir()),
  };
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 usage). Errors are one line on stderr. */
export async function run(
  argv: readonly string[],
  log: (s: string) => void = (s) => process.stderr.write(`${s}\n`),
  print: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === "--help" || command === "-h" || command === "help") {
      print(HELP);
      return command ? 0 : 2;
    }
    if (COMMAND_HELP[command] && (rest.includes("--help") || rest.includes("-h"))) {
      print(`usage: fcclip ${command} [options]\n\n${COMMAND_HELP[command]}`);
      return 0;
    }
    if (command === "convert") {
      const { flags, opts } = parse(
        rest,
        new Set(["--weights", "--clip-weights", "--clip-config", "--output"]),
        new Set(["--f16"]),
      );
      const need = (f: string) => {
        const v = flags.get(f);
        if (typeof v !== "string") throw new UsageError(`convert needs ${f}`);
        return v;
      };
      const out = await convert({
        weights: need("--weights"),
        clipWeights: flags.get("--clip-weights") as string | undefined,
        clipConfig: flags.get("--clip-config") as string | undefined,
        output: need("--output"),
        f16: flags.has("--f16"),
        opts,
      });
      log(`wrote ${out.weights} and ${out.config}`);
      return 0;
    }
    if (command === "segment") {
      const valued = new Set([
        ...MODEL_VALUED,
        "--vocab",
        "--input",
        "--output",
        "--task",
        "--confidence-threshold",
        "--video-input",
      ]);
      const { flags, opts, lists } = parse(
        rest,
        valued,
        new Set(["--dump-tensors", "--verbose", "--no-cache", "--profile"]),
      );
      const need = (f: string) => {
        const v = flags.get(f);
        if (typeof v !== "string") throw new UsageError(`segment needs ${f}`);
        return v;
      };
      const task = (flags.get("--task") as string | undefined) ?? "all";
      if (!["panoptic", "semantic", "instance", "all"].includes(task))
        throw new UsageError(`--task must be panoptic, semantic, instance or all, not '${task}'`);
      const inputs = lists.get("--input") ?? [];
      const videoInput = flags.get("--video-input") as string | undefined;
      if (inputs.length === 0 && !videoInput) throw new UsageError("segment needs --input (or --video-input)");
      if (inputs.length && videoInput) throw new UsageError("give --input or --video-input, not both");
      const threshold = flags.get("--confidence-threshold") as string | undefined;
      const confidenceThreshold = threshold === undefined ? undefined : Number(threshold);
      if (confidenceThreshold !== undefined && !(confidenceThreshold >= 0 && confidenceThreshold <= 1))
        throw new UsageError(`--confidence-threshold must be a score between 0 and 1, not '${threshold}'`);
      const written = await segment({
        ...(await modelArgs(flags, opts)),
        weights: need("--weights"),
        vocab: need("--vocab"),
        inputs,
        videoInput,
        output: need("--output"),
        task: task as "all",
        confidenceThreshold,
        dumpTensors: flags.has("--dump-tensors"),
        verbose: flags.has("--verbose"),
        profile: flags.has("--profile"),
        log,
      });
      log(`wrote ${written.length} files to ${need("--output")}`);
      return 0;
    }
    if (command === "eval") {
      const valued = new Set([
        ...MODEL_VALUED,
        "--dataset",
        "--format",
        "--layout",
        "--vocab",
        "--output",
        "--predictions",
        "--shard",
        "--merge",
      ]);
      const { flags, opts, lists } = parse(rest, valued, new Set(["--resume", "--no-cache"]));
      const str = (f: string) => flags.get(f) as string | undefined;
      const merge = lists.get("--merge");
      if (merge) return await mergeEval(merge, str("--output"), { log, print });
      const need = (f: string) => {
        const v = str(f);
        if (v === undefined) throw new UsageError(`eval needs ${f}`);
        return v;
      };
      const format = need("--format");
      if (!(EVAL_FORMATS as readonly string[]).includes(format))
        throw new UsageError(`--format must be ${EVAL_FORMATS.join(", ")}, not '${format}'`);
      return await evaluate({
        ...(await modelArgs(flags, opts)),
        weights: str("--weights"),
        dataset: str("--dataset") ?? process.env.DETECTRON2_DATASETS ?? "datasets",
        format: format as EvalFormat,
        layout: str("--layout"),
        vocab: str("--vocab"),
        output: need("--output"),
        predictions: str("--predictions"),
        resume: flags.has("--resume"),
        shard: str("--shard") === undefined ? undefined : parseShard(str("--shard")!),
        log,
        print,
      });
    }
    if (command === "classify") {
      const positional = rest.filter((a, i) => !a.startsWith("--") && !VALUED_CLASSIFY.has(rest[i - 1] ?? ""));
      const options = rest.filter((a) => !positional.includes(a));
      const templates: string[] = [];
      const withoutTemplates: string[] = [];
      for (let i = 0; i < options.length; i++) {
        if (options[i] === "--template") {
          const t = options[++i];
          if (t === undefined || !t.includes("{}")) throw new UsageError("--template needs a template containing {}");
          templates.push(t);
        } else withoutTemplates.push(options[i]!);
      }
      const { flags } = parse(withoutTemplates, VALUED_CLASSIFY, new Set(["--json"]));
      const need = (f: string) => {
        const v = flags.get(f);
        if (typeof v !== "string") throw new UsageError(`classify needs ${f}`);
        return v;
      };
      const clipConfig = flags.get("--clip-config") as string | undefined;
      const results = await classify({
        clipWeights: need("--clip-weights"),
        bpe: need("--bpe"),
        labels: need("--labels")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
        images: positional,
        textHeads: clipConfig ? await clipConfigHeads(clipConfig) : undefined,
        templates: templates.length ? templates : undefined,
      });
      if (flags.has("--json")) print(`${JSON.stringify(results, null, 2)}\n`);
      else {
        for (const r of results) {
          print(`${r.image}\n${r.results.map((x) => `  ${x.score.toFixed(4)}  ${x.label}`).join("\n")}\n`);
        }
      }
      return 0;
    }
    throw new UsageError(`unknown command '${command}' (try: fcclip --help)`);
  } catch (e) {
    if (e instanceof UsageError) {
      log(`fcclip: ${e.message}`);
      return 2;
    }
    // UsageError is an FcclipError too, so it is told apart first. Errors thrown on purpose by any package are for
    // the user; anything else is a bug.
    if (e instanceof FcclipError || e instanceof TensorCoreError || e instanceof TextEncoderError) {
      log(`fcclip: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
