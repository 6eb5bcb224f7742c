import type { Tensor } from "../tensor.js";
import { div, maximum } from "./binary.js";
import { fill } from "./copy.js";
import { reduce } from "./reduce.js";
import { unary } from "./unary.js";

/** torch.nn.functional.normalize(x, dim=-1): x / max(‖x‖₂, eps), the norm summed in f32 over the last axis. */
export function l2Normalize(x: Tensor, eps = 1e-12): Tensor {
  return x.engine.scope(() =>
    div(x, maximum(unary(reduce(unary(x, "square"), "sum", -1, true), "sqrt"), fill(x.engine, [1], eps))),
  );
}
