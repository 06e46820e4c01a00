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
