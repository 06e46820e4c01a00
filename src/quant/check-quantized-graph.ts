import { fail } from '../errors.js';
import { firstNonFinite } from '../ir/limits.js';
import { formatShape, isStatic, sizeOf } from '../ir/shape.js';
import type { ActivationQuant, QuantizedGraph, QuantizedWeight } from '../ir/quantized-graph.js';

/** Bit widths a grid may have: int8 storage holds 2…8 bits. */
export const GRID_BITS = { min: 2, max: 8 } as const;
/** The command-line bit widths an .fq file's info may record (32: float activations). */
export const WEIGHT_BITS: readonly number[] = [8, 4, 3, 2];
export const ACTIVATION_BITS: readonly number[] = [8, 4, 3, 32];

const FLOAT32_MAX = 3.4028234663852886e38;

/** Problems of one grid (scale, zero point, bit width, integer range), each phrased for `what`. */
function gridProblems(what: string, g: ActivationQuant): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(g.bits) || g.bits < GRID_BITS.min || g.bits > GRID_BITS.max)
    problems.push(`${what}: bits ${g.bits}, expected an integer in ${GRID_BITS.min}..${GRID_BITS.max}`);
  else {
    const [lo, hi] = [-(2 ** (g.bits - 1)), 2 ** (g.bits - 1) - 1];
    if (!Number.isInteger(g.qmin) || !Number.isInteger(g.qmax) || g.qmin < lo || g.qmax > hi || g.qmin >= g.qmax)
      problems.push(`${what}: integer range [${g.qmin}, ${g.qmax}], expected qmin < qmax within the ${g.bits}-bit range [${lo}, ${hi}]`);
    else if (!Number.isInteger(g.zeroPoint) || g.zeroPoint < g.qmin || g.zeroPoint > g.qmax)
      problems.push(`${what}: zero point ${g.zeroPoint}, expected an integer in [${g.qmin}, ${g.qmax}]`);
  }
  if (typeof g.scale !== 'number' || !(g.scale > 0) || g.scale > FLOAT32_MAX)
    problems.push(`${what}: scale ${g.scale}, expected a finite float32 > 0`);
  return problems;
}

function weightProblems(name: string, w: QuantizedWeight, q: QuantizedGraph): string[] {
  const what = `weight '${name}'`;
  const problems = gridProblems(what, w);
  const v = q.graph.values.get(name);
  if (!v?.data) return [...problems, `${what}: the graph has no constant of that name`];
  if (!isStatic(v.shape) || formatShape(v.shape) !== formatShape(w.shape) || w.values.length !== sizeOf(v.shape))
    return [...problems, `${what}: ${w.values.length} integers of shape ${formatShape(w.shape)}, but the graph's tensor is ${formatShape(v.shape)}`];
  if (w.channelScales) problems.push(...channelScaleProblems(what, w.channelScales, w.shape[0]));
  if (problems.length > 0) return problems;
  const bad = w.values.findIndex((x) => x < w.qmin || x > w.qmax);
  return bad < 0 ? [] : [`${what}: integer ${w.values[bad]} at index ${bad} is outside its range [${w.qmin}, ${w.qmax}]`];
}

/** Per-channel scales: one finite float32 > 0 per output channel (axis 0). */
function channelScaleProblems(what: string, scales: Float32Array, channels: number): string[] {
  if (scales.length !== channels) return [`${what}: ${scales.length} channel scales for ${channels} output channels`];
  const bad = scales.findIndex((s) => !(s > 0) || s > FLOAT32_MAX);
  return bad < 0 ? [] : [`${what}: channel scale ${scales[bad]} at channel ${bad}, expected a finite float32 > 0`];
}

/**
 * Checks what every exporter and executor relies on, listing every problem found (empty when sound): grids with
 * finite scales > 0, zero points inside their integer ranges, bit widths 2..8, weight integers inside their range,
 * integer tensors whose lengths match the graph's shapes, finite float constants, and activation/weight/bias names
 * that exist in the graph. decodeFq runs it on every file; exporters run it before writing.
 */
export function quantizedGraphProblems(q: QuantizedGraph): string[] {
  const problems: string[] = [];
  const { info } = q;
  if (!WEIGHT_BITS.includes(info.wbits)) problems.push(`info: wbits ${info.wbits}, expected one of ${WEIGHT_BITS.join(', ')}`);
  if (!ACTIVATION_BITS.includes(info.abits)) problems.push(`info: abits ${info.abits}, expected one of ${ACTIVATION_BITS.join(', ')}`);
  for (const [name, a] of q.activations) {
    if (!q.graph.values.has(name)) problems.push(`activation '${name}': the graph has no value of that name`);
    problems.push(...gridProblems(`activation '${name}'`, a));
  }
  for (const [name, w] of q.weights) problems.push(...weightProblems(name, w, q));
  for (const [name, b] of q.biases) {
    const v = q.graph.values.get(name);
    if (!v?.data || !isStatic(v.shape) || b.values.length !== sizeOf(v.shape))
      problems.push(`bias '${name}': ${b.values.length} integers, but the graph's tensor is ${v ? formatShape(v.shape) : 'missing'}`);
    if (typeof b.scale !== 'number' || !(b.scale > 0) || b.scale > FLOAT32_MAX) problems.push(`bias '${name}': scale ${b.scale}, expected a finite float32 > 0`);
    if (b.channelScales) problems.push(...channelScaleProblems(`bias '${name}'`, b.channelScales, b.values.length));
  }
  for (const v of q.graph.values.values()) {
    const bad = v.data ? firstNonFinite(v.data) : -1;
    if (bad >= 0) problems.push(`constant '${v.name}': ${v.data![bad]} at flat index ${bad}, expected finite values`);
  }
  return problems;
}

/** Fails with MODEL_INVALID naming `source` and the first problems quantizedGraphProblems finds. */
export function checkQuantizedGraph(q: QuantizedGraph, source: string): void {
  const problems = quantizedGraphProblems(q);
  if (problems.length === 0) return;
  const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
  fail('MODEL_INVALID', `${source}: the quantized graph is not sound: ${shown}. Quantize the model again with 'flexq quantize'`);
}
