// Constant operands of element-wise Add (a per-channel shift [C,1,1] no convolution can absorb, as after DBNet's
// Concat): quantized once here like an 8-bit weight, so every executor and exporter reads the same integers.
import type { Graph } from '../ir/graph.js';
import type { ActivationQuant, QuantizedWeight } from '../ir/quantized-graph.js';
import { fp32, weightRange } from './schemes.js';

/** Ops whose constant operand is quantized here (the other operand an activation). */
const CONSTANT_OPERAND_OPS: ReadonlySet<string> = new Set(['Add']);

/**
 * Symmetric per-tensor int8 (zero point 0, [−127, 127], scale max|c|/127: no clipping, a shift is few values) for
 * every float constant read by an Add whose other operand is a quantized activation.
 */
export function quantizeConstantOperands(graph: Graph, activations: ReadonlyMap<string, ActivationQuant>): Map<string, QuantizedWeight> {
  const out = new Map<string, QuantizedWeight>();
  for (const node of graph.nodes) {
    if (!CONSTANT_OPERAND_OPS.has(node.op) || node.inputs.length !== 2) continue;
    node.inputs.forEach((name, i) => {
      const c = graph.values.get(name);
      if (!c?.data || c.dtype !== 'float32' || !activations.has(node.inputs[1 - i]) || out.has(name)) return;
      const data = c.data as Float32Array;
      const { qmin, qmax } = weightRange(8);
      const largest = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const scale = fp32(largest > 0 ? largest / qmax : 1);
      const values = Int8Array.from(data, (v) => Math.min(qmax, Math.max(qmin, Math.round(v / scale))));
      out.set(name, { shape: c.shape as number[], values, scale, zeroPoint: 0, bits: 8, qmin, qmax });
    });
  }
  return out;
}
