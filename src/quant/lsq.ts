import type { Random } from '../random.js';
import type { ActivationQuant } from '../ir/quantized-graph.js';
import { fp32 } from './schemes.js';

/**
 * An activation's fake quantizer with a learnable step (LSQ, Esser et al. 2020): x̂ = s · (clamp(round(x/s) + z) − z)
 * with the zero point z fixed. The step is learned as log s (positive by construction; Adam makes LSQ's gradient
 * scale moot). ∂x̂/∂x = 1 inside the range (straight through) and ∂x̂/∂s = (q − z) − x/s inside, q − z at the clamps.
 */
export class LearnedStep {
  readonly logStep: Float64Array;
  /** The step once learning has ended (see settle). */
  private settled: number | undefined;

  constructor(readonly grid: ActivationQuant) {
    this.logStep = Float64Array.of(Math.log(grid.scale));
  }

  get step(): number {
    return this.settled ?? Math.exp(this.logStep[0]);
  }

  /**
   * Ends learning: from here on the step is the fp32 value the exporters and the resume file hold, so the rest of
   * the network trains on exactly what a resumed run reads back (fp32(exp(log x)) = x for an fp32 x).
   */
  settle(): void {
    this.settled = fp32(Math.exp(this.logStep[0]));
  }

  /** The grid with the learned step, as every exporter will read it (fp32). */
  result(): ActivationQuant {
    return { ...this.grid, scale: fp32(this.step) };
  }
}

/** What one fake-quantization kept for its backward pass. */
export interface FakeQuantTape {
  readonly x: Float32Array;
  /** 1 where round(x/s) + z landed inside the range. */
  readonly inside: Uint8Array;
}

/** Fake-quantizes x with `q`'s current step. */
export function fakeQuantize(x: Float32Array, q: LearnedStep): { y: Float32Array; tape: FakeQuantTape } {
  const s = q.step;
  const inv = 1 / s;
  const { zeroPoint: z, qmin, qmax } = q.grid;
  const lo = qmin - z;
  const hi = qmax - z;
  const y = new Float32Array(x.length);
  const inside = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const r = Math.round(x[i] * inv);
    if (r < lo) y[i] = s * lo;
    else if (r > hi) y[i] = s * hi;
    else {
      inside[i] = 1;
      y[i] = s * r;
    }
  }
  return { y, tape: { x, inside } };
}

/** ∂L/∂x and ∂L/∂log s of a fake quantization, from ∂L/∂x̂. */
export function fakeQuantizeBackward(dy: Float32Array, tape: FakeQuantTape, q: LearnedStep): { dx: Float32Array; dLogStep: number } {
  const s = q.step;
  const inv = 1 / s;
  const { zeroPoint: z, qmin, qmax } = q.grid;
  const dx = new Float32Array(dy.length);
  let dLogStep = 0;
  for (let i = 0; i < dy.length; i++) {
    const u = tape.x[i] * inv;
    const r = Math.round(u);
    if (tape.inside[i]) {
      dx[i] = dy[i];
      dLogStep += dy[i] * (r - u);
    } else {
      dLogStep += dy[i] * ((r + z < qmin ? qmin : qmax) - z);
    }
  }
  return { dx, dLogStep: s * dLogStep };
}

/**
 * QDrop (Wei et al. 2022): each element takes its float counterpart with probability 1/2, so reconstruction sees
 * quantized and float activations mixed. One random 32-bit word gives 32 fair coins. Returns the mix and which
 * elements were dropped (they carry no gradient to the quantized side).
 */
export function qdropMix(quantized: Float32Array, float: Float32Array, random: Random): { y: Float32Array; dropped: Uint8Array } {
  const dropped = qdropMask(quantized.length, random);
  return { y: quantized.map((q, i) => (dropped[i] ? float[i] : q)), dropped };
}

/** QDrop's coins for n elements: 1 where the float value is taken. */
export function qdropMask(n: number, random: Random): Uint8Array {
  const dropped = new Uint8Array(n);
  let bits = 0;
  for (let i = 0; i < n; i++) {
    if ((i & 31) === 0) bits = (random() * 4294967296) >>> 0;
    dropped[i] = (bits >>> (i & 31)) & 1;
  }
  return dropped;
}
