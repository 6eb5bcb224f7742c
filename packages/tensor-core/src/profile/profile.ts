/** "timestamp": GPU timestamp queries per pass; "submit": one submit per dispatch, timed on the CPU clock. */
export type ProfileMode = "timestamp" | "submit";

export interface DispatchTiming {
  /** The program name (e.g. "matmul_texture_b", "conv2d_depthwise"). */
  name: string;
  /** The op kind it is reported under (see opKind). */
  kind: string;
  /** The op's shape class, when it gives one (e.g. "1216×192·192→768" for a matmul). */
  label: string;
  /** The stage open when it was encoded ("" outside any stage). */
  stage: string;
  /** The first dispatch of a newly built pipeline: on lavapipe it includes the shader's JIT compile. */
  firstUse: boolean;
  ms: number;
}

export interface StageTiming {
  name: string;
  wallMs: number;
}

export interface KindSummary {
  kind: string;
  ms: number;
  /** Time in first-use dispatches (cold: includes JIT compiles where the driver compiles on first dispatch). */
  coldMs: number;
  count: number;
}

export interface ShapeSummary {
  kind: string;
  name: string;
  label: string;
  ms: number;
  count: number;
}

export interface StageSummary {
  name: string;
  wallMs: number;
  /** Time the stage's dispatches ran on the device; the rest of wallMs is CPU work and waiting. */
  gpuMs: number;
  coldMs: number;
  kinds: KindSummary[];
}

export interface ProfileSummary {
  mode: ProfileMode;
  gpuMs: number;
  coldMs: number;
  dispatches: number;
  kinds: KindSummary[];
  stages: StageSummary[];
  shapes: ShapeSummary[];
}

/** tensor-core's program names → the op kinds a profile reports; other programs declare theirs (Program.kind). */
const KINDS: readonly [RegExp, string][] = [
  [/^matmul/, "matmul"],
  [/^conv2d_depthwise$/, "depthwise conv"],
  [/^conv2d$/, "conv"],
  [/^(layer_norm|group_norm)/, "norm"],
  [/^(softmax|attention_mask_from_logits$)/, "softmax / attention"],
  [/^(ms_deform_attn|interpolate|mask_pooling)/, "sampling"],
  [/^(copy_strided|cat|cast|fill|embedding)$/, "copies / permutes"],
  [/^(unary|binary)_/, "elementwise"],
  [/^(reduce_|topk$)/, "reductions"],
  [/^(resize_crop_resize|mask_statistics|weighted_sigmoid_argmax|pack_positive_bits)$/, "post-processing"],
];

/** The kind of a tensor-core program; a name not listed is its own kind. */
export function opKind(name: string): string {
  return KINDS.find(([re]) => re.test(name))?.[1] ?? name;
}

function byKind(timings: readonly DispatchTiming[]): KindSummary[] {
  const m = new Map<string, KindSummary>();
  for (const t of timings) {
    const kind = t.kind;
    const s = m.get(kind) ?? { kind, ms: 0, coldMs: 0, count: 0 };
    s.ms += t.ms;
    if (t.firstUse) s.coldMs += t.ms;
    s.count++;
    m.set(kind, s);
  }
  return [...m.values()].sort((a, b) => b.ms - a.ms);
}

const sum = (xs: readonly DispatchTiming[], cold = false) =>
  xs.reduce((s, t) => s + (cold && !t.firstUse ? 0 : t.ms), 0);

/** The dispatch timings of one profiled run, with the stages it went through. */
export class Profile {
  constructor(
    readonly mode: ProfileMode,
    readonly dispatches: readonly DispatchTiming[],
    readonly stages: readonly StageTiming[],
  ) {}

  summary(topShapes = 15): ProfileSummary {
    const shapes = new Map<string, ShapeSummary>();
    for (const t of this.dispatches) {
      const key = `${t.name}|${t.label}`;
      const s = shapes.get(key) ?? { kind: t.kind, name: t.name, label: t.label, ms: 0, count: 0 };
      s.ms += t.ms;
      s.count++;
      shapes.set(key, s);
    }
    // A stage entered twice (e.g. several images) adds up.
    const stageNames = [...new Set([...this.stages.map((s) => s.name), ...this.dispatches.map((d) => d.stage)])];
    return {
      mode: this.mode,
      gpuMs: sum(this.dispatches),
      coldMs: sum(this.dispatches, true),
      dispatches: this.dispatches.length,
      kinds: byKind(this.dispatches),
      stages: stageNames.map((name) => {
        const ds = this.dispatches.filter((d) => d.stage === name);
        return {
          name: name || "(no stage)",
          wallMs: this.stages.filter((s) => s.name === name).reduce((s, x) => s + x.wallMs, 0),
          gpuMs: sum(ds),
          coldMs: sum(ds, true),
          kinds: byKind(ds),
        };
      }),
      shapes: [...shapes.values()].sort((a, b) => b.ms - a.ms).slice(0, topShapes),
    };
  }

  /** A plain-text report: stages, op kinds, and the most expensive (op, shape) pairs. */
  format(topShapes = 15): string {
    const s = this.summary(topShapes);
    const ms = (v: number) => v.toFixed(v < 10 ? 2 : 0).padStart(9);
    const pct = (v: number) => `${((100 * v) / Math.max(s.gpuMs, 1e-9)).toFixed(1).padStart(5)} %`;
    const clock = s.mode === "timestamp" ? "GPU timestamp queries" : "one submit per dispatch, CPU clock";
    const lines = [
      `profile (${clock}): ${s.dispatches} dispatches, ${s.gpuMs.toFixed(0)} ms on the device, of which ${s.coldMs.toFixed(0)} ms in first-use dispatches (cold: pipeline JIT)`,
      "",
      `${"stage".padEnd(24)}${"wall ms".padStart(9)}${"device ms".padStart(11)}${"cold ms".padStart(9)}  top kinds`,
      ...s.stages.map(
        (st) =>
          `${st.name.padEnd(24)}${ms(st.wallMs)}${ms(st.gpuMs).padStart(11)}${ms(st.coldMs)}  ${st.kinds
            .slice(0, 3)
            .map((k) => `${k.kind} ${k.ms.toFixed(0)}`)
            .join(", ")}`,
      ),
      "",
      `${"op kind".padEnd(24)}${"device ms".padStart(11)}${"share".padStart(8)}${"cold ms".padStart(9)}${"count".padStart(8)}`,
      ...s.kinds.map(
        (k) =>
          `${k.kind.padEnd(24)}${ms(k.ms).padStart(11)}${pct(k.ms).padStart(8)}${ms(k.coldMs)}${String(k.count).padStart(8)}`,
      ),
      "",
      `${"op / shape".padEnd(56)}${"device ms".padStart(11)}${"count".padStart(8)}`,
      ...s.shapes.map(
        (x) =>
          `${`${x.name} ${x.label}`.slice(0, 55).padEnd(56)}${ms(x.ms).padStart(11)}${String(x.count).padStart(8)}`,
      ),
    ];
    return lines.join("\n");
  }
}
