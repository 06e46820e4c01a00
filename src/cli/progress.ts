import type { Progress } from '../api/progress.js';

/** Progress of a long loop: a redrawn bar with rate and ETA on a TTY, a plain line every 10 % otherwise. */

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function createProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const start = performance.now();
  const tty = stream.isTTY === true;
  let done = 0;
  let nextTenth = 1;
  const line = () => {
    const elapsed = (performance.now() - start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = (total - done) / rate;
    return { elapsed, rate, eta };
  };
  return {
    advance(count) {
      done = Math.min(total, done + count);
      const { rate, eta } = line();
      if (tty) {
        const width = 24;
        const filled = Math.round((done / total) * width);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(1)}/s ETA ${formatDuration(eta)}  `);
      } else if (done * 10 >= nextTenth * total) {
        nextTenth = Math.floor((done * 10) / total) + 1;
        stream.write(`${label}: ${done}/${total} (${rate.toFixed(1)}/s, ETA ${formatDuration(eta)})\n`);
      }
    },
    finish() {
      const { elapsed } = line();
      stream.write(`${tty ? '\r' : ''}${label}: ${done}/${total} in ${formatDuration(elapsed)}${tty ? ' '.repeat(30) : ''}\n`);
    },
  };
}
