/**
 * Dawn prints a notice each time a device is created on an adapter whose limits it lowers ("Warning:
 * maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 …" on lavapipe). It writes with C
 * stdio to the process's stderr, out of Node's reach, between our progress bars and messages; so the CLI runs in a
 * child process whose stderr passes through this filter.
 */
import { spawn } from "node:child_process";
import { Transform, type TransformCallback } from "node:stream";

const NOTICE = /Warning: maxDynamic\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\./g;
const MARK = "Warning: maxDynamic";

/** Set for the child when the parent's stderr is a terminal (the pipe between them is not). */
export const STDERR_TTY = "FCCLIP_STDERR_TTY";

/** Where a notice may start in an unterminated tail: hold that part back, let the rest (progress bars) through. */
function holdFrom(tail: string): number {
  const i = tail.indexOf(MARK);
  if (i >= 0) return i;
  for (let k = Math.min(MARK.length - 1, tail.length); k > 0; k--)
    if (tail.endsWith(MARK.slice(0, k))) return tail.length - k;
  return tail.length;
}

/** Drops Dawn's limit notices from a text stream; everything else passes unchanged and without delay. */
export function dropDawnNotices(): Transform {
  let pending = "";
  // A notice may be glued to an unterminated line of ours (C stdio flushes late): keep that part.
  const clean = (line: string) => (line.includes(MARK) ? line.replace(NOTICE, "") : line);
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const lines = (pending + chunk.toString("utf8")).split("\n");
      const tail = lines.pop()!;
      let out = "";
      for (const l of lines) {
        const c = clean(l);
        if (c || !l) out += `${c}\n`;
      }
      const h = holdFrom(tail);
      out += tail.slice(0, h);
      pending = tail.slice(h);
      done(null, out);
    },
    flush(done: TransformCallback) {
      done(null, clean(pending));
    },
  });
}

/** Runs `script args` in a child Node process with stderr filtered; resolves with its exit code. */
export function runFiltered(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
    stdio: ["inherit", "inherit", "pipe"],
    env: { ...env, ...(process.stderr.isTTY ? { [STDERR_TTY]: "1" } : {}) },
  });
  child.stderr.pipe(dropDawnNotices()).pipe(process.stderr);
  // Ctrl-C and a job system's SIGTERM stop the child too; its results are written atomically, so none is left
  // half-written.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward).on("SIGTERM", forward);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 143)));
  });
}
