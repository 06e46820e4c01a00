// The layers the a100 kernels run (Conv, Gemm, MatMul of a QuantizedGraph) as runner jobs: everything is fixed at
// prepare time except the batch and the input bytes. The integers, scales and clamp range are the ones the TS runtime
// reads for the same node (runtime/kernels/conv2d.ts, gemm.ts), so the two differ only in who computes.

import type { Node } from '../../src/ir/graph.js';
import { sizeOf } from '../../src/ir/shape.js';
import { intAttr } from '../../src/ops/contract.js';
import { window2d } from '../../src/ops/window.js';
import type { KernelContext } from '../../runtime/kernels/registry.js';
import { activationOf, fusedActivationRange, unitMajorWeights, type FusedActivation } from '../../runtime/kernels/gemm.js';
import { fullyConnectedJob, type ConvJob } from './job-file.js';

/** The ops whose multiply-adds run on the GPU. */
export const GPU_OPS: ReadonlySet<string> = new Set(['Conv', 'Gemm', 'MatMul']);

export interface LayerTemplate {
  /** Builds the job of one batch of input. */
  job(batch: number, input: Int8Array): ConvJob;
}

type Fixed = Omit<ConvJob, 'inputShape' | 'outputShape' | 'window' | 'groups' | 'input'>;

function fixedPart(ctx: KernelContext, weights: Int8Array, bias: Int32Array | undefined, units: number, activation: FusedActivation): Fixed {
  const x = ctx.inputGrid(0);
  const w = ctx.weight(1);
  return {
    inputZeroPoint: x.zeroPoint,
    weightZeroPoint: w.zeroPoint,
    output: fusedActivationRange(activation, ctx.outputGrid),
    inputScale: x.scale,
    weightScale: w.scale,
    outputScale: ctx.outputGrid.scale,
    bias: bias ?? new Int32Array(units),
    weights,
  };
}

/** A fully-connected layer over every row of the input: [..., depth] → [..., units]. */
function fullyConnectedTemplate(ctx: KernelContext, depth: number, fixed: Fixed): LayerTemplate {
  const rowsPerSample = sizeOf(ctx.inputShape(0)) / depth;
  const units = fixed.bias.length;
  return { job: (batch, input) => fullyConnectedJob(batch * rowsPerSample, depth, units, { ...fixed, input }) };
}

/** The job template of a Conv, Gemm or MatMul node whose TS kernel has already been prepared (so it is valid). */
export function layerTemplate(ctx: KernelContext, node: Node): LayerTemplate {
  const w = ctx.weight(1);
  if (node.op === 'Conv') {
    const [channels, height, width] = ctx.inputShape(0);
    const [outChannels, outHeight, outWidth] = ctx.outputShape;
    const fixed = fixedPart(ctx, w.values, ctx.bias(2)?.values, outChannels, activationOf(ctx));
    const window = window2d(node);
    const groups = intAttr(node, 'group', 1);
    return { job: (batch, input) => ({ ...fixed, inputShape: [batch, channels, height, width], outputShape: [outChannels, outHeight, outWidth], window, groups, input }) };
  }
  const { units, depth, values } = unitMajorWeights(node, w);
  if (node.op === 'Gemm') return fullyConnectedTemplate(ctx, depth, fixedPart(ctx, values, ctx.bias(2)?.values, units, activationOf(ctx)));
  return fullyConnectedTemplate(ctx, depth, fixedPart(ctx, values, undefined, units, 'none')); // MatMul by a constant B[K, N]
}
