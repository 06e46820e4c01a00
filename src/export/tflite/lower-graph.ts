// QuantizedGraph (NCHW IR, int8 integers + float32 scales) → ModelSpec (TFLite tensors and builtin operators, NHWC).
// Layout: rank-4 activations are NHWC, conv filters OHWI, depthwise filters 1HWO (the reader's transposes in
// reverse); every other rank keeps the IR's order. A reshape of a rank-4 tensor whose NHWC and NCHW element orders
// differ gets a TRANSPOSE to NCHW first (and back after, for a rank-4 result), so flattening keeps the IR's order.
// Integers and scales are the QuantizedGraph's own: int8 weights (zero point 0), int32 biases at fp32(s_in·s_w),
// per-tensor float32 scales. The batch dimension is 1.

import { basename } from 'node:path';
import { fail } from '../../errors.js';
import type { QuantizedGraph } from '../../ir/quantized-graph.js';
import { BuiltinOperator, TensorType } from '../../tflite/schema.js';
import { FUSED_ACTIVATION, TfliteLowering, type TfliteExportOptions } from './lowering-state.js';
import type { ModelSpec } from './model-spec.js';
import { OP_RULES } from './op-rules.js';

function checkGraph(q: QuantizedGraph): void {
  const { graph } = q;
  if (q.activations.size === 0)
    fail('UNSUPPORTED_ATTR', `${graph.source}: the activations are float (quantized with --abits 32); TFLite export needs int8 activations: quantize with --abits 8`);
  if (graph.inputs.length !== 1) fail('UNSUPPORTED_ATTR', `${graph.source}: TFLite export writes graphs with one input; this one has ${graph.inputs.length}`);
  for (const node of graph.nodes) {
    if (!OP_RULES.has(node.op))
      fail('UNSUPPORTED_OP', `${graph.source}: node '${node.name}' (${node.op}) has no TFLite builtin operator; TFLite export supports ${[...OP_RULES.keys()].join(', ')}: rewrite the node in the source model, or export with --format onnx-qdq`);
    const a = node.attrs.activation;
    if (a !== undefined && !(String(a) in FUSED_ACTIVATION)) fail('UNSUPPORTED_ATTR', `${graph.source}: node '${node.name}' (${node.op}): fused activation '${String(a)}' has no TFLite equivalent; supported: none, relu, relu6`);
  }
  for (const [name, w] of q.weights) {
    if (w.bits > 8) fail('UNSUPPORTED_ATTR', `${graph.source}: weight '${name}' has ${w.bits} bits; TFLite int8 export takes weights of 8 bits or fewer`);
    if (w.zeroPoint !== 0) fail('UNSUPPORTED_ATTR', `${graph.source}: weight '${name}' has zero point ${w.zeroPoint}; TFLite's int8 kernels need symmetric weights (zero point 0): re-quantize with symmetric weights`);
  }
}

/** The graph input (quantized by QUANTIZE when io is float) and outputs (dequantized when io is float). */
function lowerInputs(l: TfliteLowering): { inputs: number[] } {
  const name = l.graph.inputs[0];
  const reader = l.graph.nodes.find((n) => n.inputs.includes(name)) ?? l.graph.nodes[0];
  const int8 = l.activation(name, reader);
  if (l.options.io === 'int8') return { inputs: [int8] };
  const float = l.addTensor({ name: `${name}/float`, shape: l.tensors[int8].shape, type: TensorType.FLOAT32 });
  l.addOperator({ code: BuiltinOperator.QUANTIZE, version: 2, inputs: [float], outputs: [int8] });
  return { inputs: [float] };
}

function lowerOutputs(l: TfliteLowering): number[] {
  return [...l.graph.outputs, ...(l.options.extraOutputs ?? [])].map((name) => {
    const producer = l.graph.nodes.find((n) => n.outputs.includes(name) || n.inputs.includes(name));
    if (!producer) return fail('MISSING_TENSOR', `${l.graph.source}: no activation named '${name}' to expose as a TFLite output`);
    const int8 = l.activation(name, producer);
    if (l.options.io === 'int8') return int8;
    const float = l.addTensor({ name: `${name}/float`, shape: l.tensors[int8].shape, type: TensorType.FLOAT32 });
    l.addOperator({ code: BuiltinOperator.DEQUANTIZE, version: 2, inputs: [int8], outputs: [float] });
    return float;
  });
}

/** What the model says about itself: its description line and the "flexq" metadata buffer (JSON). */
function modelMetadata(q: QuantizedGraph): { description: string; metadata: Map<string, Uint8Array> } {
  const { flexqVersion, method, wbits, abits, seed, calibrationSamples } = q.info;
  const granularity = [...q.weights.values()].some((w) => w.channelScales) ? 'per-channel' : 'per-tensor';
  const description = `flexq ${flexqVersion}: ${method} W${wbits}A${abits}, ${granularity} int8, from ${basename(q.info.model)}`;
  const json = JSON.stringify({ flexqVersion, method, wbits, abits, seed, calibrationSamples, model: basename(q.info.model) });
  return { description, metadata: new Map([['flexq', new TextEncoder().encode(json)]]) };
}

export function lowerToTflite(q: QuantizedGraph, options: TfliteExportOptions): ModelSpec {
  checkGraph(q);
  const l = new TfliteLowering(q, options);
  const { inputs } = lowerInputs(l);
  for (const node of q.graph.nodes) OP_RULES.get(node.op)!(l, node);
  const outputs = lowerOutputs(l);
  return { tensors: l.tensors, operators: l.operators, inputs, outputs, ...modelMetadata(q) };
}
