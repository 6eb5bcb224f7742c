import { TensorCoreError } from "@fcclip/tensor-core";
import { defaultCacheDir } from "../cache/directory-store.js";
import { classify } from "./classify.js";
import { clipConfigHeads, convert } from "./convert.js";
import { segment } from "./segment.js";
import { UsageError } from "./usage-error.js";

const HELP = `usage: fcclip <command> [options]

commands:
  convert   official FC-CLIP weights -> one model bundle (<output>.safetensors + <output>.json)
      --weights FILE        FC-CLIP checkpoint (fcclip_cocopan.pth, heads only) or a combined file
      --clip-weights FILE   open_clip CLIP weights (open_clip_pytorch_model.bin / open_clip_model.safetensors)
      --clip-config FILE    open_clip model config JSON, when the text head count is not width/64
      --output PREFIX       where to write the bundle
      --f16                 store the CLIP matrices as float16 (about half the size; the heads, vectors and scalars stay float32)
      --opts KEY VALUE ...  detectron2 config overrides (MODEL.MASK_FORMER.NHEADS)
  segment   open-vocabulary panoptic / semantic / instance segmentation
      --weights FILE        FC-CLIP checkpoint (fcclip_cocopan.pth), a combined file, or a bundle
      --clip-weights FILE   open_clip CLIP weights, when --weights has no backbone.clip_model.* keys
      --clip-config FILE    open_clip model config JSON, when the text head count is not width/64
      --config-file FILE    detectron2 YAML config (_BASE_ followed); --opts KEY VALUE ... overrides
      --vocab V             coco_panoptic | ade20k_150 | a *_with_prompt_eng.txt file | "cat,kitty;stuff:sky"
      --input FILE|GLOB ... PNG or JPEG images
      --output DIR          where <stem>.panoptic.png, .json, .semantic.png, .instances.json, .overlay.png go
      --task T              panoptic | semantic | instance | all (default: what the config enables)
      --data-dir DIR        FC-CLIP data: vocab/, vocab/meta/, tokenizer/ (default: $FCCLIP_DATA or ./data)
      --dump-tensors        also write <stem>.tensors.safetensors with intermediates under the oracle's names
      --cache-dir DIR       where encoded vocabularies are kept between runs (default: ~/.cache/fcclip)
      --no-cache            encode the vocabulary again and keep nothing
      --verbose             print per-stage timings
      --profile             time every GPU dispatch: per stage, op kind and shape, cold (first image) and warm;
                            printed, and written to <stem>.profile.json
  classify  zero-shot image classification with the ConvNeXt CLIP
      --clip-weights FILE   open_clip weights, or FC-CLIP weights holding backbone.clip_model.*
      --bpe FILE            CLIP's bpe_simple_vocab_16e6.txt.gz
      --labels "a,b,c"      the labels, comma-separated
      --clip-config FILE    open_clip model config JSON, when the text head count is not width/64
      --template T          a prompt template with {} (repeatable; default: FC-CLIP's 14)
      --json                print JSON instead of text
      IMAGE ...             PNG or JPEG files
`;

const VALUED_CLASSIFY = new Set(["--clip-weights", "--bpe", "--labels", "--clip-config", "--template"]);

interface Parsed {
  flags: Map<string, string | true>;
  opts: [string, string][];
  /** Values of --input (everything up to the next option). */
  inputs: string[];
}

function parse(argv: readonly string[], valued: ReadonlySet<string>, booleans: ReadonlySet<string>): Parsed {
  const flags = new Map<string, string | true>();
  const opts: [string, string][] = [];
  const inputs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--input" && valued.has(a)) {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) inputs.push(argv[++i]!);
      if (inputs.length === 0) throw new UsageError("--input needs at least one file or glob");
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
  return { flags, opts, inputs };
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
        "--weights",
        "--clip-weights",
        "--clip-config",
        "--config-file",
        "--vocab",
        "--input",
        "--output",
        "--task",
        "--data-dir",
        "--cache-dir",
      ]);
      const { flags, opts, inputs } = parse(
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
      if (inputs.length === 0) throw new UsageError("segment needs --input");
      const clipConfig = flags.get("--clip-config") as string | undefined;
      const written = await segment({
        weights: need("--weights"),
        clipWeights: flags.get("--clip-weights") as string | undefined,
        textHeads: clipConfig ? await clipConfigHeads(clipConfig) : undefined,
        configFile: flags.get("--config-file") as string | undefined,
        opts,
        vocab: need("--vocab"),
        inputs,
        output: need("--output"),
        task: task as "all",
        dumpTensors: flags.has("--dump-tensors"),
        dataDir: (flags.get("--data-dir") as string | undefined) ?? process.env.FCCLIP_DATA ?? "data",
        verbose: flags.has("--verbose"),
        profile: flags.has("--profile"),
        cacheDir: flags.has("--no-cache")
          ? null
          : ((flags.get("--cache-dir") as string | undefined) ?? defaultCacheDir()),
        log,
      });
      log(`wrote ${written.length} files to ${need("--output")}`);
      return 0;
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
    if (e instanceof TensorCoreError) {
      log(`fcclip: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
