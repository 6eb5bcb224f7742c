"""PyTorch CPU timings of the same ops as run.mjs, for ratios measured in the same run. Prints one JSON object.

Usage: /usr/bin/python3 torch_bench.py   (Debian's python3-torch; 2 threads like the WebGPU side has 2 cores)
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from generate import ms_deform_attn_core  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(0)


def timeit(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def main():
    cases = json.loads(sys.argv[1])
    res = {}
    with torch.no_grad():
        for c in cases:
            name, k, reps = c["name"], c["kind"], c["reps"]
            if k == "matmul":
                a, b = torch.randn(c["M"], c["K"]), torch.randn(c["K"], c["N"])
                fn = lambda: a @ b
            elif k == "linear":
                x, w = torch.randn(c["M"], c["K"]), torch.randn(c["N"], c["K"])
                fn = lambda: F.linear(x, w)
            elif k == "conv":
                x = torch.randn(1, c["Ci"], c["H"], c["W"])
                w = torch.randn(c["Co"], c["Ci"] // c["groups"], c["k"], c["k"])
                fn = lambda: F.conv2d(x, w, padding=c["k"] // 2, groups=c["groups"])
                # PyTorch's fastest layout for the same conv (channels-last is much faster for depthwise on CPU).
                xl, wl = x.to(memory_format=torch.channels_last), w.to(memory_format=torch.channels_last)
                res[name + ":channels_last"] = timeit(lambda: F.conv2d(xl, wl, padding=c["k"] // 2, groups=c["groups"]), c["reps"])
            elif k == "softmax":
                x = torch.randn(c["rows"], c["C"])
                fn = lambda: F.softmax(x, -1)
            elif k == "layernorm":
                x, w, b = torch.randn(c["rows"], c["C"]), torch.randn(c["C"]), torch.randn(c["C"])
                fn = lambda: F.layer_norm(x, [c["C"]], w, b, 1e-6)
            elif k == "msdeform":
                shapes = c["shapes"]
                S = sum(h * w for h, w in shapes)
                v = torch.randn(1, S, c["M"], c["D"])
                loc = torch.rand(1, c["Lq"], c["M"], len(shapes), c["P"], 2)
                aw = torch.rand(1, c["Lq"], c["M"], len(shapes), c["P"])
                fn = lambda: ms_deform_attn_core(v, shapes, loc, aw)
            else:
                continue
            res[name] = timeit(fn, reps)
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    print(json.dumps({"seconds": res, "blas": blas, "torch": torch.__version__}))


main()
