/** A one-line progress bar on stderr; on a non-terminal it prints a line per quarter instead of redrawing. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const tty = stream.isTTY === true;
  let lastQuarter = -1;
  return {
    update(done: number, total: number, detail = ""): void {
      const frac = total ? done / total : 1;
      if (tty) {
        const width = 30;
        const filled = Math.round(frac * width);
        stream.write(
          `\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.round(frac * 100)}% ${done}/${total} ${detail}`
            .slice(0, 160)
            .padEnd(100),
        );
        if (done >= total) stream.write("\n");
        return;
      }
      const quarter = Math.floor(frac * 4);
      if (quarter > lastQuarter) {
        lastQuarter = quarter;
        stream.write(`${label}: ${Math.round(frac * 100)}% (${done}/${total})\n`);
      }
    },
  };
}
