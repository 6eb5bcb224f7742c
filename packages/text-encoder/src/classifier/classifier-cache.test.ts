import type { HostTensor } from "@fcclip/tensor-core";
import { describe, expect, test } from "vitest";
import { testEngine } from "../../../tensor-core/src/testing/harness.js";
import { TextEncoderError } from "../errors.js";
import { ClipTextEncoder } from "../transformer/text-encoder.js";
import { type ClassifierStore, TextClassifierCache } from "./classifier-cache.js";
import { buildTextClassifier, type PromptTokenizer } from "./text-classifier.js";

const W = 8;
const VOCAB = 12;
const CONTEXT = 6;

/** A seeded random text tower (the cache's behaviour, not the tower's numbers, is under test here). */
function randomTower(seed: number): Map<string, HostTensor> {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const t = (shape: number[]): HostTensor => {
    const v = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand);
    return { dtype: "F32", shape, bytes: new Uint8Array(v.buffer) };
  };
  const b = "transformer.resblocks.0.";
  return new Map([
    ["token_embedding.weight", t([VOCAB, W])],
    ["positional_embedding", t([CONTEXT, W])],
    [`${b}ln_1.weight`, t([W])],
    [`${b}ln_1.bias`, t([W])],
    [`${b}attn.in_proj_weight`, t([3 * W, W])],
    [`${b}attn.in_proj_bias`, t([3 * W])],
    [`${b}attn.out_proj.weight`, t([W, W])],
    [`${b}attn.out_proj.bias`, t([W])],
    [`${b}ln_2.weight`, t([W])],
    [`${b}ln_2.bias`, t([W])],
    [`${b}mlp.c_fc.weight`, t([4 * W, W])],
    [`${b}mlp.c_fc.bias`, t([4 * W])],
    [`${b}mlp.c_proj.weight`, t([W, 4 * W])],
    [`${b}mlp.c_proj.bias`, t([W])],
    ["ln_final.weight", t([W])],
    ["ln_final.bias", t([W])],
    ["text_projection", t([W, W])],
  ]);
}

/** Ids from the prompt's characters, the largest id last (CLIP's end token is its largest id). */
const tokenizer: PromptTokenizer = {
  tokenize(prompts: readonly string[]): Int32Array {
    const out = new Int32Array(prompts.length * CONTEXT);
    prompts.forEach((p, r) => {
      const ids = [...p].slice(0, CONTEXT - 1).map((c) => c.charCodeAt(0) % (VOCAB - 1));
      out.set([...ids, VOCAB - 1], r * CONTEXT);
    });
    return out;
  },
};

function memoryStore(): ClassifierStore & { data: Map<string, Float32Array> } {
  const data = new Map<string, Float32Array>();
  return { data, get: async (k) => data.get(k), set: async (k, v) => void data.set(k, v) };
}

describe("TextClassifierCache", async () => {
  const e = await testEngine();
  const load = (seed: number) => {
    const weights = randomTower(seed);
    return ClipTextEncoder.load(e, { read: async (k) => weights.get(k)! }, "", { width: W, layers: 1, heads: 2 });
  };
  const classes = [["cat", "kitty"], ["dog"]];
  const templates = ["a {}.", "the {}!"];

  test("encodes once, then answers from memory; the store is written and read under the tower's fingerprint", async () => {
    const enc = await load(1);
    const store = memoryStore();
    const cache = new TextClassifierCache(enc, tokenizer);
    const first = await cache.get(classes, { templates, store });
    expect(first.source).toBe("encoded");
    expect(first.classifier).toEqual(await buildTextClassifier(enc, tokenizer, classes, { templates }));
    expect(store.data.size).toBe(1);
    const progress: number[][] = [];
    const again = await cache.get(classes, { templates, store, onProgress: (d, t) => progress.push([d, t]) });
    expect(again.source).toBe("memory");
    expect(again.classifier).toBe(first.classifier);
    expect(progress).toEqual([[6, 6]]);

    // A new cache of the same weights (another run) finds it in the store, without a tokenizer.
    const fromStore = await new TextClassifierCache(enc, null).get(classes, { templates, store });
    expect(fromStore.source).toBe("store");
    expect(fromStore.classifier.embeddings).toEqual(first.classifier.embeddings);
    expect(fromStore.classifier.synonymsPerClass).toEqual([2, 1]);

    // Other templates or other weights are other keys.
    expect((await cache.get(classes, { templates: ["{}"], store })).source).toBe("encoded");
    const other = await load(2);
    expect(other.fingerprint).not.toEqual(enc.fingerprint);
    expect((await new TextClassifierCache(other, tokenizer).get(classes, { templates, store })).source).toBe("encoded");
    expect(store.data.size).toBe(3);
    enc.dispose();
    other.dispose();
  });

  test("a stored array of the wrong length is re-encoded; without a tokenizer that is an error saying what to pass", async () => {
    const enc = await load(1);
    const store = memoryStore();
    await new TextClassifierCache(enc, tokenizer).get(classes, { templates, store });
    const [key] = store.data.keys();
    store.data.set(key!, new Float32Array(5));
    const withoutTokenizer = new TextClassifierCache(enc, null);
    await expect(withoutTokenizer.get(classes, { templates, store })).rejects.toThrow(TextEncoderError);
    await expect(withoutTokenizer.get(classes, { templates, store })).rejects.toThrow(/bpe_simple_vocab_16e6/);
    const fixed = await new TextClassifierCache(enc, tokenizer).get(classes, { templates, store });
    expect(fixed.source).toBe("encoded");
    expect(store.data.get(key!)!.length).toBe(3 * W);
    enc.dispose();
  });
});
