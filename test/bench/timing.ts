/**
 * Fastest milliseconds of `fn` after warm-up, over at least `minRuns` runs and about `budgetMs` of work. The minimum,
 * not the median: on a shared machine other processes only ever add time, so the fastest run is the op's own cost.
 */
export async function fastestMs(fn: () => Promise<unknown>, minRuns: number, budgetMs: number): Promise<number> {
  for (let i = 0; i < 2; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minRuns || (performance.now() - start < budgetMs && samples.length < 200)) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return Math.min(...samples);
}

/**
 * `fastestMs` with the process's CPU time (every thread: the main one and onnxruntime's pool) of the same runs, the
 * fastest of each: where other processes hold the cores, wall time measures the queue and CPU time still measures the
 * work, so a change is judged by both.
 */
export async function fastestWallAndCpuMs(fn: () => Promise<unknown>, minRuns: number, budgetMs: number): Promise<{ wallMs: number; cpuMs: number }> {
  for (let i = 0; i < 2; i++) await fn();
  let wallMs = Infinity;
  let cpuMs = Infinity;
  let runs = 0;
  const start = performance.now();
  while (runs < minRuns || (performance.now() - start < budgetMs && runs < 200)) {
    const cpu = process.cpuUsage();
    const t = performance.now();
    await fn();
    wallMs = Math.min(wallMs, performance.now() - t);
    const used = process.cpuUsage(cpu);
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000);
    runs++;
  }
  return { wallMs, cpuMs };
}
