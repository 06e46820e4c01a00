// Choosing per-layer weight bits under a size budget: a 0/1 multiple-choice knapsack (one bit width per layer)
// solved exactly by dynamic programming over the budget, cut into at most BUDGET_STEPS steps.
import { fail } from '../errors.js';

export interface BitChoice {
  readonly bits: number;
  /** Packed weight bytes at this width: params × bits / 8. */
  readonly bytes: number;
  /** Predicted loss of this layer at this width (additive over layers). */
  readonly loss: number;
}

export interface LayerChoices {
  readonly layer: string;
  readonly choices: readonly BitChoice[];
}

/** Fine enough that rounding each layer's size up to a step wastes under 0.1 % of the budget per layer. */
const BUDGET_STEPS = 2000;

/** The bits of each layer with the least total loss whose bytes fit `budgetBytes`; an error when nothing fits. */
export function chooseBits(layers: readonly LayerChoices[], budgetBytes: number): Map<string, number> {
  const step = Math.max(1, budgetBytes / BUDGET_STEPS);
  const capacity = Math.floor(budgetBytes / step);
  // best[c]: least loss of the layers so far within c steps; pick[k][c]: the choice layer k took there.
  let best = new Float64Array(capacity + 1);
  const pick: Int8Array[] = [];
  for (const { choices } of layers) {
    const next = new Float64Array(capacity + 1).fill(Infinity);
    const took = new Int8Array(capacity + 1).fill(-1);
    choices.forEach((choice, j) => {
      const cost = Math.ceil(choice.bytes / step);
      for (let c = cost; c <= capacity; c++) {
        const loss = best[c - cost] + choice.loss;
        if (loss < next[c]) {
          next[c] = loss;
          took[c] = j;
        }
      }
    });
    best = next;
    pick.push(took);
  }
  if (!Number.isFinite(best[capacity])) {
    const least = layers.reduce((sum, l) => sum + Math.min(...l.choices.map((c) => c.bytes)), 0);
    fail('BAD_ARGUMENT', `budget ${(budgetBytes / 1024).toFixed(2)} KiB: even the fewest bits need ${(least / 1024).toFixed(2)} KiB of weights; give a larger --budget-kb`);
  }
  const bits = new Map<string, number>();
  let c = capacity;
  for (let k = layers.length - 1; k >= 0; k--) {
    const choice = layers[k].choices[pick[k][c]];
    bits.set(layers[k].layer, choice.bits);
    c -= Math.ceil(choice.bytes / step);
  }
  return bits;
}
