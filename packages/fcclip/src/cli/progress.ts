import { STDERR_TTY } from "./dawn-notices.js";

/** "1h02m", "3m07s", "12s": a remaining time at a glance. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * A one-line progress bar on stderr; on a non-terminal it prints a line per quarter instead of redrawing. The ETA
 * extrapolates the rate since the first update, so work skipped before it (a resumed run) does not count.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, now = () => performance.now()) {
  // Under bin.ts the CLI's stderr is a pipe to the parent's terminal (see dawn-notices.ts).
  const tty = stream.isTTY === true || (stream === process.stderr && process.env[STDERR_TTY] === "1");
  let lastQuarter = -1;
  let start: { t: number; done: number } | undefined;
  const eta = (done: number, total: number) => {
    start ??= { t: now(), done };
    const rate = (now() - start.t) / (done - start.done);
    return done > start.done && done < total ? ` ETA ${formatDuration(rate * (total - done))}` : "";
  };
  return {
    update(done: number, total: number, detail = ""): void {
      const frac = total ? done / total : 1;
      const left = eta(done, total);
      if (tty) {
        const width = 30;
        const filled = Math.round(frac * width);
        stream.write(
          `\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.round(frac * 100)}% ${done}/${total}${left} ${detail}`
            .slice(0, 160)
            .padEnd(100),
        );
        if (done >= total) stream.write("\n");
        return;
      }
      const quarter = Math.floor(frac * 4);
      if (quarter > lastQuarter) {
        lastQuarter = quarter;
        stream.write(`${label}: ${Math.round(frac * 100)}% (${done}/${total})${left}\n`);
      }
    },
  };
}
