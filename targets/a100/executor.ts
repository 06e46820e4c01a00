// `--executor a100`: a QuantizedGraph with its Conv, Gemm and MatMul layers run on an NVIDIA GPU by the IMMA kernel
// (depthwise convolutions by the CUDA-core path), every other op by the TS integer runtime in a100 mode. Its outputs
// must equal `--executor runtime --mode a100` byte for byte: the runtime's a100 mode is this kernel's emulation.
// One runner process per layer and batch (files in, file out): simple and inspectable, not fast; the benchmark times
// the kernel itself.

import { createIntegerRuntime, dequantize, nodeContext } from '../../runtime/executor.js';
import { KERNELS, type Kernel } from '../../runtime/kernels/registry.js';
import type { BatchExecutor, ExecutorOptions } from '../../src/target.js';
import { fail } from '../../src/errors.js';
import type { Node } from '../../src/ir/graph.js';
import { sizeOf } from '../../src/ir/shape.js';
import { refusePerChannelWeights, type QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { buildA100, type A100Build } from './build.js';
import { GPU_OPS, layerTemplate } from './layers.js';
import { queryDevice, runJob } from './runner.js';

interface Step {
  readonly inputs: readonly string[];
  readonly output: string;
  readonly outputSize: number;
  run(inputs: readonly Int8Array[], batch: number): Promise<Int8Array>;
}

/** The runner binary, once a usable GPU is known to be there; otherwise an error naming what is missing. */
export async function requireA100Device(): Promise<A100Build> {
  const build = await buildA100();
  const found = await queryDevice(build);
  if ('missing' in found)
    fail('DEVICE_MISSING', `--executor a100 runs the conv / fully-connected layers on an NVIDIA GPU (sm_80 or later), and this machine has none usable (${found.missing}); its bit-exact emulation runs anywhere: --executor runtime --mode a100`);
  return build;
}

function prepareStep(q: QuantizedGraph, node: Node, build: A100Build, where: LayerDevice): Step {
  const ctx = nodeContext(q, 'a100', node);
  const output = node.outputs.find((o) => o !== '')!;
  const outputSize = sizeOf(ctx.outputShape);
  if (GPU_OPS.has(node.op)) {
    const template = layerTemplate(ctx, node);
    return { inputs: node.inputs, output, outputSize, run: (inputs, batch) => runJob(build, template.job(batch, inputs[0]), where) };
  }
  const kernel: Kernel = KERNELS.get(node.op)!(ctx);
  return {
    inputs: node.inputs,
    output,
    outputSize,
    run: async (inputs, batch) => {
      const y = new Int8Array(batch * outputSize);
      kernel(inputs, batch, y);
      return y;
    },
  };
}

const NO_DATA = new Int8Array(0);

/** Where the conv / fully-connected layers run: the GPU kernels, or the runner's host reference of the same contract. */
export type LayerDevice = 'gpu' | 'host';

/** The executor over a given build; `host` runs the same graph walk and jobs without a GPU (for tests of the walk). */
export function createA100Executor(q: QuantizedGraph, build: A100Build, where: LayerDevice): BatchExecutor {
  refusePerChannelWeights(q, 'A100 IMMA');
  const rt = createIntegerRuntime(q, 'a100'); // validates every node and grid exactly as the runtime executor does
  const steps = q.graph.nodes.map((node) => prepareStep(q, node, build, where));
  const input = q.graph.inputs[0];
  const sample = q.graph.values.get(input)!.shape.slice(1) as number[];
  return {
    name: where === 'gpu' ? 'a100 (CUDA IMMA)' : 'a100 (runner host reference)',
    graph: q.graph,
    async run(x, outputs = q.graph.outputs) {
      const batch = x.shape[0];
      if (x.shape.length !== sample.length + 1 || x.data.length !== batch * sizeOf(sample))
        fail('DATA_SHAPE', `${q.graph.source}: input '${input}' expects shape [N,${sample.join(',')}], got [${x.shape.join(',')}]`);
      const env = new Map<string, Int8Array>([[input, rt.quantizeInput(x.data)]]);
      for (const step of steps) env.set(step.output, await step.run(step.inputs.map((n) => env.get(n) ?? NO_DATA), batch));
      return new Map(
        outputs.map((name) => {
          const data = env.get(name);
          if (!data) return fail('MISSING_TENSOR', `${q.graph.source}: no activation named '${name}' (the a100 executor returns node outputs and the graph input)`);
          const shape = [batch, ...(q.graph.values.get(name)!.shape.slice(1) as number[])];
          return [name, { shape, data: dequantize({ shape, data, quant: q.activations.get(name)! }) }];
        }),
      );
    },
    dispose() {},
  };
}

/** `--executor a100` (the requantization mode is the kernel's own, whatever --mode says). */
export async function a100Executor(q: QuantizedGraph, _options: ExecutorOptions): Promise<BatchExecutor> {
  return createA100Executor(q, await requireA100Device(), 'gpu');
}
