import type { Graph } from '../ir/graph.js';
import { eliminateDeadNodes } from './eliminate-dead-nodes.js';
import { eliminateIdentities } from './eliminate-identities.js';
import { foldBatchNorm } from './fold-batch-norm.js';
import { foldBiasAdd } from './fold-bias-add.js';
import { foldConstants } from './fold-constants.js';
import { foldPad } from './fold-pad.js';
import { freeBatchDimension } from './free-batch-dimension.js';
import { fuseActivations } from './fuse-activations.js';

export interface Pass {
  readonly name: string;
  readonly run: (graph: Graph) => Graph;
}

/**
 * The passes, in the order they run, and why that order:
 * 0. eliminateDeadNodes before anything, so no pass (nor calibration) spends time on nodes no output needs.
 * 1. freeBatchDimension next, so no later pass bakes the file's batch size into a constant.
 * 2. foldConstants makes Shape/Cast/Slice/Concat chains and computed parameters constant, which the
 *    pattern passes below need to see.
 * 3. eliminateIdentities removes pass-through nodes (some appear only after folding), so producer
 *    and consumer patterns are adjacent.
 * 3b. foldPad moves explicit zero padding into the Conv that reads it (TFLite's PAD → VALID CONV_2D), once
 *    identities no longer sit between them.
 * 4. foldBiasAdd gives every Conv/MatMul its own bias (MatMul + Add → Gemm), before BN folding so a
 *    conv → add → BN chain folds completely.
 * 5. foldBatchNorm needs constant BN parameters and the Conv/Gemm directly before the BN.
 * 6. fuseActivations runs last, because conv → BN → relu and conv → add → relu only become conv → relu then.
 * Not here: globalizeAveragePool changes integer arithmetic (AVERAGE_POOL_2D → MEAN), so quantize runs it where
 * flexq chooses the grids, and an imported int8 model keeps the pool its file states.
 */
export const PIPELINE: readonly Pass[] = [
  { name: 'eliminateDeadNodes', run: eliminateDeadNodes },
  { name: 'freeBatchDimension', run: freeBatchDimension },
  { name: 'foldConstants', run: foldConstants },
  { name: 'eliminateIdentities', run: eliminateIdentities },
  { name: 'foldPad', run: foldPad },
  { name: 'foldBiasAdd', run: foldBiasAdd },
  { name: 'foldBatchNorm', run: foldBatchNorm },
  { name: 'fuseActivations', run: fuseActivations },
];

/** Runs the pipeline; `after` sees the graph after each pass (tests verify it there). */
export function optimizeGraph(graph: Graph, after?: (pass: string, graph: Graph) => void): Graph {
  return PIPELINE.reduce((g, pass) => {
    const out = pass.run(g);
    after?.(pass.name, out);
    return out;
  }, graph);
}
