import type { Replies, Request, WorkerMessage } from "./worker/protocol.js";

export interface ProgressEvent {
  stage: string;
  done: number;
  total: number;
  unit: "bytes" | "items";
}

/** An error raised in the worker, with its class name (NoAdapterError, WeightsMismatchError, ...). */
export class WorkerError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/** The page's side of the inference worker: one promise per request, progress through a callback. */
export class FcclipClient {
  private readonly worker = new Worker(new URL("./worker/fcclip.worker.ts", import.meta.url), { type: "module" });
  private next = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (p: ProgressEvent) => void }
  >();

  constructor() {
    this.worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.kind === "progress") p.progress?.(m);
      else {
        this.pending.delete(m.id);
        if (m.kind === "reply") p.resolve(m.value);
        else p.reject(new WorkerError(m.name, m.message));
      }
    };
    this.worker.onerror = (ev) => {
      for (const p of this.pending.values())
        p.reject(new WorkerError("WorkerError", ev.message || "the worker failed"));
      this.pending.clear();
    };
  }

  call<R extends Request>(
    req: R,
    progress?: (p: ProgressEvent) => void,
    transfer: Transferable[] = [],
  ): Promise<Replies[R["type"]]> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      this.worker.postMessage({ id, req }, transfer);
    });
  }
}
