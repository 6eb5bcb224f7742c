"""The full-size reference: ConvNeXt-L FC-CLIP at the official shapes and test size, every stage, in plain PyTorch.

Builds the official architecture from ../shared/data/fcclip_convnext_large_manifest.json (846 keys) with seeded,
non-degenerate weights, segments ../shared/oracle/tiny/images/chelsea.png at the official test size (800×1203,
padded 800×1216) with the ADE20K-150 vocabulary of ../shared/data/vocab, and writes into a git-ignored folder:
  weights.safetensors    all 846 keys under the official names (what `fcclip segment --weights` reads)
  classifier.safetensors the per-synonym text classifier T (seeded unit vectors; the text tower is checked apart)
  reference.safetensors  every stage (names as in ../shared/oracle), final panoptic ids and semantic map
  reference.json         sizes, vocabulary, panoptic segments, instances
and the small committed digest ../../bench/fullsize-digest.json that the full-size bench checks against.
Run with Debian's torch (python3-torch, python3-pil):
  /usr/bin/python3 packages/fcclip/tools/fullsize/make_reference.py [--out DIR]
With --time-only it builds the same model, times the forward twice (cold, warm) per stage, prints JSON and writes
nothing: the full-size bench's PyTorch figures, measured in the same run.
With --clip rn50 --manifest FILE (FILE from `node tools/fullsize/manifest.mjs rn50`) the model is FC-CLIP RN50: the
same heads on OpenAI's ResNet-50 CLIP (docs/resnet-clip.md), ENSEMBLE_ON_VALID_MASK on; its digest is
../../bench/fullsize-digest-rn50.json.
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(PKG, "fixtures"))
sys.path.insert(0, os.path.join(PKG, "..", "tensor-core", "fixtures"))
from fcclip_reference import Fcclip, parse_vocabulary, read_safetensors, self_check  # noqa: E402
from generate import write_safetensors  # noqa: E402

SHARED = os.path.abspath(os.path.join(PKG, "..", "..", "..", "shared"))
SEED = 20231


LN100, LN50 = 4.605170185988092, 3.912023005428146  # CLIP's and the decoder's logit scales (100 and 50 after exp)


def uniform(stream, n):
    """n uniforms in (0, 1) from a counter hash (lowbias32). bench/seeded-weights.mjs computes the same numbers in
    JavaScript, so the full-size bench rebuilds these weights without torch."""
    x = np.arange(n, dtype=np.uint32) + np.uint32((stream * 0x9E3779B9 + SEED) % 2**32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return (x.astype(np.float64) + 0.5) / 2**32


def seeded_weight(i, k, shape):
    """Variance-preserving random weights for manifest key number i (uniform, float64 arithmetic rounded once to
    float32), shaped like trained ones where post-processing needs it: sharp masks, CLIP temperatures, deformable
    offsets spread over the map. bench/seeded-weights.mjs `seededWeight` is the same function in JavaScript."""
    numel = math.prod(shape)
    u = uniform(i, numel)
    sym = lambda std: (u - 0.5) * (std * math.sqrt(12.0))  # noqa: E731
    if k.endswith("logit_scale"):
        v = np.full(numel, LN100 if k.startswith("backbone.") else LN50)
    elif k == "criterion.empty_weight":
        v = np.ones(numel)
        v[-1] = 0.1
    elif k.endswith(".gamma"):
        v = 0.05 + 0.1 * u
    elif k.endswith("sampling_offsets.bias"):
        v = sym(2.0)
    elif k.endswith("token_embedding.weight"):
        v = sym(0.02)
    elif k.endswith("positional_embedding"):
        v = sym(0.01)
    elif k.endswith("text_projection"):
        v = sym(1.0 / math.sqrt(shape[0]))
    elif any(k.endswith(s) for s in ("level_embed", "level_embed.weight", "query_feat.weight", "query_embed.weight",
                                     "void_embedding.weight")):
        v = sym(1.0)
    elif k == "sem_seg_head.pixel_decoder.mask_features.bias":
        v = sym(1.0)  # a per-query offset on the mask logits: masks of different extents
    elif k.endswith("running_var"):
        v = 1.0 + sym(0.1)  # BatchNorm variances are positive
    elif len(shape) == 1 and k.endswith(".weight"):
        v = 1.0 + sym(0.1)
    elif len(shape) == 1:
        v = sym(0.02)
    else:
        v = sym(1.0 / math.sqrt(math.prod(shape[1:])))
        if k.startswith("sem_seg_head.predictor.transformer_") and k.endswith("out_proj.weight"):
            v = v * 0.03  # attention averages over keys; at full strength all 250 queries collapse to one
        if k in ("sem_seg_head.predictor.mask_embed.layers.2.weight", "sem_seg_head.predictor.class_embed.layers.2.weight"):
            # After a ReLU every query shares a positive mean; rows that sum to exactly zero remove it.
            v = v.reshape(shape[0], shape[1])
            v[:, shape[1] // 2:] = -v[:, : shape[1] // 2]
            if "mask_embed" in k:
                v = v * 4.0  # sharp masks, as trained ones are
    return torch.from_numpy(np.asarray(v, dtype=np.float64).astype(np.float32).reshape(shape))


def seeded_weights(manifest):
    return {e["key"]: seeded_weight(i, e["key"], e["shape"]) for i, e in enumerate(manifest["keys"])}


def unit_rows(stream, rows, dim):
    """Seeded unit vectors (the text classifier T): symmetric uniforms over a float64 norm summed in order."""
    v = uniform(stream, rows * dim).reshape(rows, dim) - 0.5
    out = np.empty((rows, dim), dtype=np.float32)
    for r in range(rows):
        s = 0.0
        for x in v[r].tolist():
            s += x * x
        out[r] = (v[r] / math.sqrt(s)).astype(np.float32)
    return torch.from_numpy(out)


def vocabulary():
    vocab_dir = os.path.join(SHARED, "data", "vocab")
    ade = parse_vocabulary(os.path.join(vocab_dir, "ade20k_150_with_prompt_eng.txt"), range(1, 151))
    meta = json.load(open(os.path.join(vocab_dir, "meta", "ade20k_150.json")))
    things = {int(v) for v in meta["thing_dataset_id_to_contiguous_id"].values()}
    coco_lines = open(os.path.join(vocab_dir, "coco_panoptic_with_prompt_eng.txt")).read().split("\n")
    coco = {s for line in coco_lines if line.strip() and "invalid_class_id" not in line
            for s in line.split(":", 1)[1].replace(", ", ",").split(",")}
    seen = torch.tensor([int(any(s in coco for s in syns)) for syns in ade])
    return ade, [c in things for c in range(len(ade))], seen


def digest_of(t):
    """Sums, extremes and 32 evenly spaced values: enough to tell a wrong stage from rounding without the tensor."""
    f = t.detach().double().flatten()
    nan = torch.isnan(f)
    # The ResNet pool gives NaN for masks empty at the CLIP resolution (as upstream): counted, then read as 0.
    f = torch.nan_to_num(f, nan=0.0)
    idx = torch.linspace(0, f.numel() - 1, 32).round().long()
    return {"shape": list(t.shape), "sum": float(f.sum()), "absSum": float(f.abs().sum()), "absMax": float(f.abs().max()),
            "nanCount": int(nan.sum()), "sampleIndex": idx.tolist(), "samples": [float(x) for x in f[idx]]}


def forward(m, chelsea, clf_void, num_templates, seen, is_thing, dump=None):
    """One image through every stage, timed per stage under the names of our pipeline's stages (FCCLIP_STAGES); `dump`
    collects the intermediates."""
    keep = dump if dump is not None else {}
    times = {}
    t0 = time.time()
    images, (h, w) = m.preprocess(chelsea, 800, 1333)
    keep["input.images_tensor"] = images
    res = m.backbone(images)
    for i, r in enumerate(res):
        keep[f"backbone.res{i + 2}"] = r
    times["backbone"] = time.time() - t0
    t0 = time.time()
    mf, ms = m.pixel_decoder(res, dump)
    keep["pixel_decoder.mask_features"] = mf
    for i, x in enumerate(ms):
        keep[f"pixel_decoder.multi_scale_features.{i}"] = x
    times["pixel_decoder"] = time.time() - t0
    t0 = time.time()
    logits, masks = m.decoder(ms, mf, clf_void, num_templates, dump)
    times["transformer_decoder"] = time.time() - t0
    t0 = time.time()
    mc = m.mask_for_pooling(masks, res[3])
    emb = m.pooled_clip_feature(masks, res[3])
    times["visual_prediction_forward"] = time.time() - t0
    keep["oov.mask_for_pooling"] = mc
    if m.family == "convnext" and dump is not None:
        keep["oov.mask_pooled_clip_feature"] = m.mask_pooling(res[3], mc)
    keep["oov.pooled_clip_feature"] = emb
    t0 = time.time()
    out = m.class_logits(emb, clf_void, m.W("backbone.clip_model.logit_scale"), num_templates)
    times["get_classification_logits"] = time.time() - t0
    keep["oov.out_vocab_logits"] = out[..., :-1]
    t0 = time.time()
    mask_cls = m.geometric_ensemble(logits, out, seen, valid=m.valid_masking(masks, res[3]))[0]
    times["geometric_ensemble"] = time.time() - t0
    keep["ens.mask_cls_results"] = mask_cls[None]
    t0 = time.time()
    Ho, Wo = chelsea.shape[:2]
    final = m.final_mask_logits(masks, images.shape[-2:], (h, w), (Ho, Wo))
    sem = m.semantic_inference(mask_cls, final)
    top2 = sem.topk(2, dim=0).values
    keep["out.sem_seg.top1"], keep["out.sem_seg.top2"] = top2[0], top2[1]
    keep["out.semantic"] = sem.argmax(0).int()
    pan, segments = m.panoptic_inference(mask_cls, final, is_thing)
    keep["out.panoptic_seg"] = pan
    inst = m.instance_inference(mask_cls, final, is_thing)
    times["inference"] = time.time() - t0
    return times, (images, (h, w), (Ho, Wo), pan, segments, inst)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(PKG, ".fullsize"))
    ap.add_argument("--time-only", action="store_true", help="time the forward twice (cold, warm), print JSON, write nothing")
    ap.add_argument("--clip", default="convnext-l", choices=["convnext-l", "rn50"])
    ap.add_argument("--manifest", help="the key list (tools/fullsize/manifest.mjs); default: the ConvNeXt-L manifest")
    args = ap.parse_args()
    if args.clip == "rn50" and not args.manifest:
        ap.error("--clip rn50 needs --manifest FILE, written by: node tools/fullsize/manifest.mjs rn50 > FILE")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with torch.no_grad():
        if not args.time_only:
            os.makedirs(args.out, exist_ok=True)
            self_check(SHARED)
        manifest = json.load(open(args.manifest or os.path.join(SHARED, "data", "fcclip_convnext_large_manifest.json")))
        sd = seeded_weights(manifest)
        m = Fcclip(sd, heads=8)
        assert m.encoder_layers == 6 and m.decoder_layers == 9, (m.encoder_layers, m.decoder_layers)
        if args.clip == "rn50":
            assert m.family == "resnet" and m.resnet_layers == [3, 4, 6, 3], m.family
        else:
            assert m.depths == [3, 3, 27, 3], m.depths
        embed = sd["void_embedding.weight"].shape[1]
        classes, is_thing, seen = vocabulary()
        num_templates = [len(c) for c in classes]
        clf = unit_rows(len(manifest["keys"]), sum(num_templates), embed)
        clf_void = torch.cat([clf, F.normalize(sd["void_embedding.weight"], dim=-1)], 0)

        chelsea = np.asarray(Image.open(os.path.join(SHARED, "oracle", "tiny", "images", "chelsea.png")).convert("RGB"))
        if args.time_only:
            # Cold (first call: allocator and oneDNN warm-up) and warm, as the bench times its own runs.
            runs = {name: forward(m, chelsea, clf_void, num_templates, seen, is_thing)[0] for name in ("cold", "warm")}
            print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, **runs}))
            return
        dump = {}
        times, (images, (h, w), (Ho, Wo), pan, segments, inst) = forward(m, chelsea, clf_void, num_templates, seen,
                                                                         is_thing, dump)
        print("PyTorch seconds per stage:", {k: round(v, 2) for k, v in times.items()})

        # The official tokenizer's ids of the first 28 COCO prompts (an oracle file), for the text-tower check.
        oracle_vocab = os.path.join(SHARED, "oracle", "tiny", "vocab", "coco_panoptic.tensors.safetensors")
        tokens = read_safetensors(oracle_vocab)["text.tokens"][:28]
        dump["text.tokens"] = tokens
        dump["text.prompt_features"] = m.encode_text(tokens)

        for s in segments:
            s["area"] = int((pan == s["id"]).sum())
        instances = [{"score": float(s), "category_id": int(c), "query": int(q), "area": int(mk.sum())}
                     for s, c, q, mk in zip(inst["scores"], inst["classes"], inst["queries"], inst["masks"])]
        print(f"{len(segments)} panoptic segments, {len(instances)} instances; classes",
              sorted({s['category_id'] for s in segments}))

    write_safetensors(os.path.join(args.out, "weights.safetensors"), sd)
    write_safetensors(os.path.join(args.out, "classifier.safetensors"), {"text.classifier": clf})
    write_safetensors(os.path.join(args.out, "reference.safetensors"), {k: v.contiguous() for k, v in dump.items()})
    info = {"seed": SEED, "clip": args.clip, "image": "oracle/tiny/images/chelsea.png", "vocab": "ade20k_150", "min_size": 800, "max_size": 1333,
            "original_hw": [Ho, Wo], "resized_hw": [h, w], "padded_hw": list(images.shape[-2:]), "seen": seen.tolist(),
            "pytorch_seconds": times, "segments": segments, "instances": instances}
    json.dump(info, open(os.path.join(args.out, "reference.json"), "w"), indent=1)
    digest = {"note": "written by tools/fullsize/make_reference.py; the full-size bench checks its result against it", "seed": SEED,
              "weights_sha256": _sha256(sd[e["key"]] for e in manifest["keys"]), "classifier_sha256": _sha256([clf]),
              "stages": {k: digest_of(v) for k, v in dump.items() if not k.startswith(("text.", "out."))},
              "semantic_sha256": hashlib.sha256(dump["out.semantic"].numpy().tobytes()).hexdigest(),
              "semantic_histogram": torch.bincount(dump["out.semantic"].flatten().long(), minlength=len(classes)).tolist(),
              "panoptic_sha256": hashlib.sha256(pan.numpy().tobytes()).hexdigest(),
              "segments": segments, "instances": [{k: i[k] for k in ("score", "category_id", "area")} for i in instances]}
    name = "fullsize-digest.json" if args.clip == "convnext-l" else f"fullsize-digest-{args.clip}.json"
    json.dump(digest, open(os.path.join(PKG, "bench", name), "w"), indent=1)
    print("wrote", args.out)


def _sha256(tensors):
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.numpy().tobytes())
    return h.hexdigest()


if __name__ == "__main__":
    main()
