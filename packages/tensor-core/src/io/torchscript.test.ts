import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { bytesSource } from "./byte-source.js";
import { FormatError, UnsafePickleError } from "./errors.js";
import { toFloat32 } from "./host-tensor.js";
import { TorchCheckpoint } from "./pytorch/checkpoint.js";
import { PyRecord } from "./pytorch/unpickle.js";
import { SafetensorsFile } from "./safetensors.js";
import { openStateDict } from "./state-dict.js";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "io");
const file = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));

/** Per archive: torch.jit.load(f).state_dict() keys in order, their dtypes, and the plain tensor attributes. */
interface Expected {
  keys: string[];
  dtypes: Record<string, string>;
  plain_tensor_attributes: Record<string, string>;
}
const EXPECTED = JSON.parse(new TextDecoder().decode(file("torchscript_expected.json"))).archives as Record<
  string,
  Expected
>;

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

describe("TorchScript archives written by torch.jit.save", async () => {
  const values = await SafetensorsFile.open(bytesSource(file("torchscript_expected.safetensors"), "expected"));

  for (const [archive, want] of Object.entries(EXPECTED)) {
    test(`${archive}: keys, order, dtypes, shapes and values equal torch.jit.load(f).state_dict()`, async () => {
      const sd = await openStateDict(bytesSource(file(`${archive}.pt`), `${archive}.pt`));
      expect(sd.format).toBe("torchscript");
      expect(sd.keys()).toEqual(want.keys);
      expect(Object.fromEntries(sd.keys().map((k) => [k, sd.info(k)!.dtype]))).toEqual(want.dtypes);
      for (const k of sd.keys()) {
        const t = await sd.read(k);
        const ref = await values.read(`${archive}/${k}`);
        expect(t.shape, k).toEqual(ref.shape);
        expect(Array.from(toFloat32(t)), k).toEqual(Array.from(toFloat32(ref)));
      }
    });

    test(`${archive}: tensors held as plain attributes are reported, not loaded`, async () => {
      const sd = await openStateDict(bytesSource(file(`${archive}.pt`), `${archive}.pt`));
      expect(sd.skipped).toEqual(Object.keys(want.plain_tensor_attributes));
      expect(sd.topLevelKeys).toEqual([]);
    });
  }

  test("the OpenAI layout: half-precision weights, int64 counters, no attn_mask", async () => {
    const sd = await openStateDict(bytesSource(file("clip_scripted.pt"), "clip_scripted.pt"));
    expect(sd.info("visual.conv1.weight")).toEqual({ dtype: "F16", shape: [4, 3, 3, 3] });
    expect(sd.info("visual.bn1.num_batches_tracked")).toEqual({ dtype: "I64", shape: [] });
    expect(sd.info("transformer.resblocks.0.attn.in_proj_weight")).toEqual({ dtype: "F16", shape: [12, 4] });
    expect(sd.info("logit_scale")).toEqual({ dtype: "F16", shape: [] });
    expect(sd.info("visual.conv1.bias")).toBeUndefined();
    expect(sd.info("transformer.resblocks.0.attn_mask")).toBeUndefined();
  });

  test("the module tree is inert records of __torch__ classes", async () => {
    const ckpt = await TorchCheckpoint.open(bytesSource(file("clip_scripted.pt"), "clip_scripted.pt"));
    expect(ckpt.kind).toBe("torchscript");
    const root = ckpt.root as PyRecord;
    expect(root).toBeInstanceOf(PyRecord);
    expect(root.cls.qualified).toBe("__torch__.CLIP");
    const visual = (root.state as Map<string, unknown>).get("visual") as PyRecord;
    expect(visual.cls.qualified).toBe("__torch__.ModifiedResNet");
    expect((visual.state as Map<string, unknown>).get("training")).toBe(false);
  });

  for (const name of ["evil_ts_reduce.pt", "evil_ts_newobj.pt", "evil_ts_plain.pth"]) {
    test(`${name} is refused without running anything`, async () => {
      const err = await rejection(openStateDict(bytesSource(file(name), name)));
      expect(err).toBeInstanceOf(UnsafePickleError);
    });
  }

  for (const [name, pattern] of [
    ["bad_ts_no_module.pt", /holds a dict, not a module/],
    ["bad_ts_undefined_class.pt", /__torch__\.Undefined is not defined in the archive's code\/__torch__\.py/],
    ["bad_ts_getstate.pt", /custom __getstate__ state/],
  ] as const) {
    test(`${name} is a FormatError that says what is wrong and what to do`, async () => {
      const err = await rejection(openStateDict(bytesSource(file(name), name)));
      expect(err).toBeInstanceOf(FormatError);
      expect(String(err)).toMatch(pattern);
      expect(String(err)).toMatch(/torch\.save/);
    });
  }

  test("a module tree with a cycle is a FormatError, not an endless walk", async () => {
    const err = await rejection(openStateDict(bytesSource(file("bad_ts_cycle.pt"), "bad_ts_cycle.pt")));
    expect(err).toBeInstanceOf(FormatError);
    expect(String(err)).toMatch(/module 'me' is its own ancestor/);
  });

  test("truncated archives are FormatErrors", async () => {
    const bytes = file("clip_traced.pt");
    for (const cut of [10, bytes.length / 2, bytes.length - 10]) {
      const err = await rejection(
        openStateDict(bytesSource(bytes.subarray(0, Math.floor(cut)), "cut.pt")).then(async (sd) => {
          for (const k of sd.keys()) await sd.read(k);
        }),
      );
      expect(err, `cut at ${cut}`).toBeInstanceOf(FormatError);
    }
  });
});
