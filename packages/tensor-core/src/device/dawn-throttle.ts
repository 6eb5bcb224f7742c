/**
 * dawn.node keeps a GPU promise alive by re-arming `globalThis.setImmediate` with a native callback for as long as
 * any promise (mapAsync, onSubmittedWorkDone) is pending. That spins the JS thread at 100 % of a core, and on a
 * 2-core machine running lavapipe it steals a core from the GPU emulation (measured: GEMM 7.9 → 12.7 GFLOP/s once
 * throttled, see shared/perf/MEASURED.md). We let the first polls of a wait run immediately (short waits keep their
 * latency) and then re-poll on a ~1 ms timer. Only anonymous native callbacks are touched: JS code is unaffected.
 */
const INSTALLED = Symbol.for("@fcclip/tensor-core.dawnPollThrottle");

interface ThrottleState {
  waitStart: number;
  lastPoll: number;
  spinMs: number;
  timerMs: number;
}

type AnyFn = (...args: unknown[]) => void;

function isAnonymousNative(fn: unknown): fn is AnyFn {
  return typeof fn === "function" && fn.name === "" && Function.prototype.toString.call(fn).includes("[native code]");
}

export function installDawnPollThrottle(spinMs = 0.3, timerMs = 1): void {
  const g = globalThis as unknown as Record<symbol | string, unknown>;
  if (g[INSTALLED] || typeof g.setImmediate !== "function") return;
  const original = g.setImmediate as (fn: AnyFn, ...args: unknown[]) => unknown;
  const state: ThrottleState = { waitStart: 0, lastPoll: Number.NEGATIVE_INFINITY, spinMs, timerMs };
  g[INSTALLED] = state;
  const throttled = (fn: unknown, ...args: unknown[]): unknown => {
    if (!isAnonymousNative(fn)) return original(fn as AnyFn, ...args);
    const now = performance.now();
    if (now - state.lastPoll > 3 * state.timerMs + 1) state.waitStart = now;
    state.lastPoll = now;
    if (now - state.waitStart < state.spinMs) return original(fn, ...args);
    return setTimeout(fn, state.timerMs, ...args);
  };
  Object.assign(throttled, original);
  g.setImmediate = throttled;
}

/** Called by the engine when it starts awaiting the GPU, so every wait gets its short immediate-poll window. */
export function noteGpuWaitStart(): void {
  const state = (globalThis as unknown as Record<symbol, ThrottleState | undefined>)[INSTALLED];
  if (state) {
    state.waitStart = performance.now();
    state.lastPoll = state.waitStart;
  }
}
