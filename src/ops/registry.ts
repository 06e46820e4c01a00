import type { OpContract } from './contract.js';
import { abs } from './abs.js';
import { add } from './add.js';
import { averagePool } from './average-pool.js';
import { batchNormalization } from './batch-normalization.js';
import { cast } from './cast.js';
import { ceil } from './ceil.js';
import { clip } from './clip.js';
import { concat } from './concat.js';
import { constantOfShape } from './constant-of-shape.js';
import { convTranspose } from './conv-transpose.js';
import { conv } from './conv.js';
import { div } from './div.js';
import { elu } from './elu.js';
import { expand } from './expand.js';
import { flatten } from './flatten.js';
import { floor } from './floor.js';
import { gather } from './gather.js';
import { gemm } from './gemm.js';
import { globalAveragePool } from './global-average-pool.js';
import { hardSigmoid } from './hard-sigmoid.js';
import { hardSwish } from './hard-swish.js';
import { identity } from './identity.js';
import { leakyRelu } from './leaky-relu.js';
import { lrn } from './lrn.js';
import { matmul } from './matmul.js';
import { maxPool } from './max-pool.js';
import { max } from './max.js';
import { min } from './min.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { pad } from './pad.js';
import { prelu } from './prelu.js';
import { range } from './range.js';
import { reduceMax } from './reduce-max.js';
import { reduceMean } from './reduce-mean.js';
import { reduceSum } from './reduce-sum.js';
import { relu } from './relu.js';
import { reshape } from './reshape.js';
import { resize } from './resize.js';
import { shape } from './shape.js';
import { sigmoid } from './sigmoid.js';
import { slice } from './slice.js';
import { softmax } from './softmax.js';
import { sqrt } from './sqrt.js';
import { squeeze } from './squeeze.js';
import { sub } from './sub.js';
import { tanh } from './tanh.js';
import { tile } from './tile.js';
import { transpose } from './transpose.js';
import { unsqueeze } from './unsqueeze.js';

/** Every op flexq's IR knows, in one explicit list. */
const CONTRACTS: readonly OpContract[] = [
  abs, add, averagePool, batchNormalization, cast, ceil, clip, concat, constantOfShape, conv, convTranspose, div,
  elu, expand, flatten, floor, gather, gemm, globalAveragePool, hardSigmoid, hardSwish, identity, leakyRelu, lrn,
  matmul, max, maxPool, min, mul, neg, pad, prelu, range, reduceMax, reduceMean, reduceSum, relu, reshape, resize,
  shape, sigmoid, slice, softmax, sqrt, squeeze, sub, tanh, tile, transpose, unsqueeze,
];

export const OPS: ReadonlyMap<string, OpContract> = new Map(CONTRACTS.map((c) => [c.op, c]));
