"""PyTorch CPU time of the CLIP text tower on the prompts that text-classifier.mjs encodes, for a ratio measured in
the same run. Reads {"width", "layers", "heads", "embed", "batch", "tokens": [[77 ids], ...]} on stdin and prints
{"seconds": total, "prompts": n, "torch": version}. The tower is FCCLIP-SPEC §2.5's, run as the official code runs
it: all 77 positions, batches of `batch` prompts, 2 threads. Weights are random: time does not depend on them.

Usage: /usr/bin/python3 text_bench.py < job.json   (Debian's python3-torch)
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fcclip", "fixtures"))
from fcclip_reference import Fcclip  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(0)


def main():
    job = json.load(sys.stdin)
    W, layers, E = job["width"], job["layers"], job["embed"]
    p = "backbone.clip_model."
    sd = {
        p + "token_embedding.weight": torch.randn(49408, W) * 0.02,
        p + "positional_embedding": torch.randn(77, W) * 0.01,
        p + "ln_final.weight": torch.ones(W),
        p + "ln_final.bias": torch.zeros(W),
        p + "text_projection": torch.randn(W, E) * W**-0.5,
    }
    for i in range(layers):
        b = f"{p}transformer.resblocks.{i}."
        for name, shape in [("ln_1.weight", [W]), ("ln_1.bias", [W]), ("ln_2.weight", [W]), ("ln_2.bias", [W]),
                            ("attn.in_proj_weight", [3 * W, W]), ("attn.in_proj_bias", [3 * W]),
                            ("attn.out_proj.weight", [W, W]), ("attn.out_proj.bias", [W]),
                            ("mlp.c_fc.weight", [4 * W, W]), ("mlp.c_fc.bias", [4 * W]),
                            ("mlp.c_proj.weight", [W, 4 * W]), ("mlp.c_proj.bias", [W])]:
            sd[b + name] = torch.randn(*shape) * (shape[-1] ** -0.5 if len(shape) == 2 else 0.02)
    model = Fcclip(sd, text_heads=job["heads"])
    tokens = torch.tensor(job["tokens"], dtype=torch.int64)
    batch = job["batch"]
    with torch.no_grad():
        model.encode_text(tokens[:batch])  # warm-up
        t = time.perf_counter()
        for s in range(0, len(tokens), batch):
            model.encode_text(tokens[s:s + batch])
        seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "prompts": len(tokens), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
