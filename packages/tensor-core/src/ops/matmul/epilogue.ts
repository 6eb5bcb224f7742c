import type { BufferBinding } from "../../kernel.js";
import type { Tensor } from "../../tensor.js";
import { type Activation, activationPrelude, activationWgsl, activationWgsl4 } from "../../wgsl/erf.js";
import { load } from "../util.js";

/**
 * What every matmul kernel does with an accumulator before storing it:
 *   C = post(residual + scale ⊙ act(alpha · A·B + bias))   (+ C first, for a K slice after the first)
 * with bias and scale per column (axis "n") or per row (axis "m"), and `post` an optional ReLU after the residual add.
 * Fusing them saves the passes over C that separate ops would make (a ConvNeXt block's γ·x + shortcut, a
 * transformer's residual adds, a ResNet Bottleneck's ReLU(conv3 + shortcut)). The kernels bind its inputs
 * after their own, in the order of `bindings`; bias and scale are read at `p.bias_base + index` (the tile's first
 * row or column), the residual at C's own index (its window is cut like C's).
 */
export class MatmulEpilogue {
  readonly act: Activation;
  /** Applied after the residual add. */
  readonly post: "none" | "relu";
  /** Storage bindings in order, with their WGSL names and element types. */
  readonly bindings: { name: string; binding: BufferBinding; type: string }[] = [];
  private readonly bias?: Tensor;
  private readonly scale?: Tensor;
  private readonly residual?: BufferBinding;

  constructor(
    o: { bias?: Tensor; scale?: Tensor; activation?: Activation; residualActivation?: "relu" },
    readonly axis: "n" | "m",
    /** The tile's residual window (same offsets as C's), or none. */
    residual: BufferBinding | undefined,
    /** A K slice after the first adds C's partial sums. */
    readonly accumulate: boolean,
    /** Only the last K slice applies bias, activation, scale and residual. */
    last: boolean,
  ) {
    this.act = last ? (o.activation ?? "none") : "none";
    this.post = last ? (o.residualActivation ?? "none") : "none";
    if (!last) return;
    this.bias = o.bias;
    this.scale = o.scale;
    this.residual = residual;
    if (o.bias) this.bindings.push({ name: "bias", binding: o.bias.binding(), type: o.bias.dtype });
    if (o.scale) this.bindings.push({ name: "scale", binding: o.scale.binding(), type: o.scale.dtype });
    if (residual) this.bindings.push({ name: "residual", binding: residual, type: "f32" });
  }

  get dtypes(): string[] {
    return this.bindings.map((b) => b.type);
  }

  /** Part of a pipeline cache key: everything that changes the generated WGSL. */
  get key(): string {
    return `${this.bindings.map((b) => `${b.name}:${b.type}`).join(",")}|${this.axis}|${this.act}|${this.post}|${this.accumulate ? "acc" : ""}`;
  }

  get prelude(): string {
    return activationPrelude(this.act);
  }

  /** One output at (row m, column n), whose index in C is `cIdx`. */
  scalar(acc: string, m: string, n: string, cIdx: string): string {
    const at = this.axis === "n" ? n : m;
    let v = `${acc} * p.alpha`;
    if (this.accumulate) v += ` + c[${cIdx}]`;
    if (this.bias) v += ` + ${load(this.bias.dtype, "bias", `p.bias_base + ${at}`)}`;
    v = activationWgsl(this.act, `(${v})`);
    if (this.scale) v = `${load(this.scale.dtype, "scale", `p.bias_base + ${at}`)} * ${v}`;
    if (this.residual) v = `residual[${cIdx}] + ${v}`;
    return this.post === "relu" ? `max(${v}, 0.0)` : v;
  }

  /** Four outputs of row m, columns n..n+3 (clamped to the tile), the row starting at C index `crow`. */
  vec4(acc: string, m: string, n: string, crow: string): string {
    const cols = (f: (idx: string) => string) =>
      `vec4<f32>(${[0, 1, 2, 3].map((j) => f(`min(${n} + ${j}u, p.N - 1u)`)).join(", ")})`;
    const perAxis = (t: Tensor, name: string) =>
      this.axis === "n"
        ? cols((idx) => load(t.dtype, name, `p.bias_base + ${idx}`))
        : load(t.dtype, name, `p.bias_base + ${m}`);
    let v = `${acc} * p.alpha`;
    if (this.accumulate) v += ` + ${cols((idx) => `c[${crow} + ${idx}]`)}`;
    if (this.bias) v += ` + ${perAxis(this.bias, "bias")}`;
    v = activationWgsl4(this.act, `(${v})`);
    if (this.scale) v = `${perAxis(this.scale, "scale")} * ${v}`;
    if (this.residual) v = `${cols((idx) => `residual[${crow} + ${idx}]`)} + ${v}`;
    return this.post === "relu" ? `max(${v}, vec4<f32>(0.0))` : v;
  }
}
