import { parentPort, workerData } from 'node:worker_threads';
import { loadBases } from './bases.js';
import { runCase } from './cases.js';

interface Setup {
  readonly seed: number;
  readonly dir: string;
  /** A case index that spins forever instead of running: the harness's own test of its time limit. */
  readonly hangAt?: number;
}

const { seed, dir, hangAt } = workerData as Setup;
const bases = await loadBases();
parentPort!.on('message', (index: number) => {
  if (index === hangAt) for (;;);
  void runCase(bases, seed, index, dir).then((result) => parentPort!.postMessage({ type: 'result', result }));
});
parentPort!.postMessage({ type: 'ready' });
