import { noteGpuWaitStart } from "../device/dawn-throttle.js";
import type { Program } from "../kernel.js";
import { type DispatchTiming, opKind, Profile, type ProfileMode, type StageTiming } from "./profile.js";

interface PendingDispatch {
  name: string;
  kind: string;
  label: string;
  stage: string;
  firstUse: boolean;
}

/**
 * Times every dispatch the engine encodes while a profile is open. With `timestamp-query` each compute pass writes a
 * begin/end timestamp (the GPU's own clock, no extra syncs); without it every dispatch is submitted alone and timed
 * from submit to onSubmittedWorkDone on the CPU clock, which is coarser (the Dawn poll throttle rounds waits up to
 * ~1 ms) and serialises the work.
 */
export class Profiler {
  readonly mode: ProfileMode;
  private stageName = "";
  private stageStart = performance.now();
  private readonly stages: StageTiming[] = [];
  private readonly timings: DispatchTiming[] = [];
  private readonly reads: Promise<void>[] = [];
  private pending: PendingDispatch[] = [];
  private readonly querySet: GPUQuerySet | null;
  private readonly resolveBuffer: GPUBuffer | null;
  private lastDone = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly capacity: number,
    mode: ProfileMode,
  ) {
    this.mode = mode;
    if (mode === "timestamp") {
      this.querySet = device.createQuerySet({ type: "timestamp", count: 2 * capacity });
      this.resolveBuffer = device.createBuffer({
        size: 16 * capacity,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
    } else {
      this.querySet = null;
      this.resolveBuffer = null;
    }
  }

  /** Starts a named stage (wall-clock time is taken from here to the next stage or the end). */
  stage(name: string, now = performance.now()): void {
    this.closeStage(now);
    this.stageName = name;
    this.stageStart = now;
  }

  private closeStage(now: number): void {
    if (this.stageName) this.stages.push({ name: this.stageName, wallMs: now - this.stageStart });
    this.stageName = "";
  }

  /** Whether the engine must submit before encoding another dispatch (the query set holds `capacity` passes). */
  get full(): boolean {
    return this.pending.length >= this.capacity;
  }

  /** The pass descriptor for the next dispatch: timestamp writes in its query slots (timestamp mode). */
  beginDispatch(program: Program, firstUse: boolean): GPUComputePassDescriptor | undefined {
    const slot = this.pending.length;
    const { name } = program;
    this.pending.push({
      name,
      kind: program.kind ?? opKind(name),
      label: program.label ?? "",
      stage: this.stageName,
      firstUse,
    });
    if (!this.querySet) return undefined;
    return {
      timestampWrites: {
        querySet: this.querySet,
        beginningOfPassWriteIndex: 2 * slot,
        endOfPassWriteIndex: 2 * slot + 1,
      },
    };
  }

  /** Called with the encoder about to be submitted: resolves this batch's timestamps into a readable buffer. */
  beforeSubmit(encoder: GPUCommandEncoder): (() => void) | undefined {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return undefined;
    if (!this.querySet || !this.resolveBuffer) {
      const submitted = performance.now();
      return () => {
        noteGpuWaitStart();
        this.reads.push(
          this.device.queue.onSubmittedWorkDone().then(() => {
            const done = performance.now();
            const start = Math.max(submitted, this.lastDone);
            this.lastDone = done;
            // One dispatch per submit in this mode.
            this.timings.push({ ...batch[0]!, ms: done - start });
          }),
        );
      };
    }
    const bytes = 16 * batch.length;
    const read = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, 2 * batch.length, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, read, 0, bytes);
    return () => {
      this.reads.push(
        read.mapAsync(GPUMapMode.READ).then(() => {
          const ts = new BigUint64Array(read.getMappedRange());
          batch.forEach((d, i) => {
            this.timings.push({ ...d, ms: Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6 });
          });
          read.unmap();
          read.destroy();
        }),
      );
    };
  }

  /** Waits for every timing still on its way back and returns the profile. The engine must have synced first. */
  async finish(): Promise<Profile> {
    this.closeStage(performance.now());
    noteGpuWaitStart();
    await Promise.all(this.reads);
    this.querySet?.destroy();
    this.resolveBuffer?.destroy();
    return new Profile(this.mode, this.timings, this.stages);
  }
}
