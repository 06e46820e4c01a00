// Residual fusion, for the arena: a one-group DSP conv whose output only a table Add reads runs as one step with that
// Add (kernels/conv_dsp.c, flexq_conv_add_s8_dsp) at the Add's place, and writes the sum over the Add's other operand
// (the residual) when no later step reads it. The conv's output then never exists whole: in a residual block the
// block input, the first conv's output and the second conv's output no longer need bytes at the same time.
// Per Add, in graph order, the choice (fuse the conv of operand 0, of operand 1, or neither) is the one with the
// smallest planned arena given the choices before it; a tie goes to fusing (one tensor less written and read).

import type { Node } from '../../src/ir/graph.js';
import { arenaBuffers } from './arena-buffers.js';
import type { CStep, LoweredModel } from './lower.js';
import { planArena } from './plan-arena.js';

const arenaSize = (model: LoweredModel, steps: readonly CStep[]): number => planArena(arenaBuffers({ ...model, steps }, { inPlace: true }).buffers).size;

export function fuseResidualAdds(model: LoweredModel): LoweredModel {
  let steps = model.steps;
  for (const add of model.steps.filter((s) => s.addTable)) {
    const fusions = [0, 1].map((k) => fused(model, steps, add, k)).filter((s): s is CStep[] => s !== undefined);
    const choices = [...fusions, steps]; // fusions first: the first smallest wins
    const sizes = choices.map((c) => arenaSize(model, c));
    steps = choices[sizes.indexOf(Math.min(...sizes))];
  }
  return { ...model, steps };
}

/** `steps` with the conv that writes the Add's operand k run together with the Add, or undefined where it cannot. */
function fused(model: LoweredModel, steps: readonly CStep[], add: CStep, k: number): CStep[] | undefined {
  const root = (name: string): string => model.aliases.get(name) ?? name;
  const [operand, residual] = [add.inputs[k], add.inputs[1 - k]];
  const conv = steps.find((s) => s.output === operand);
  if (!conv?.convDsp || !add.addTable || root(residual) === operand || model.outputs.some((o) => root(o.name) === operand)) return undefined;
  if (steps.some((s) => s !== add && s.inputs.some((x) => root(x) === operand))) return undefined;
  const [own, other] = [add.addTable.tables[k], add.addTable.tables[1 - k]];
  const node: Node = { ...add.node, op: 'ConvAdd', name: `${conv.node.name} + ${add.node.name}` };
  const step: CStep = {
    node,
    params: { type: 'flexq_conv_add_dsp_params', init: `{${conv.convDsp}, ${own.name}, ${other.name}, ${add.addTable.requant}}` },
    arrays: [...conv.arrays, ...add.arrays],
    inputs: [conv.inputs[0], residual],
    output: add.output,
    outputBytes: add.outputBytes,
    scratchBytes: conv.scratchBytes,
    // The kernel reads each residual byte just before writing it, but reads the conv input all along.
    inPlaceInputs: root(conv.inputs[0]) === root(residual) ? [] : [1],
    sources: conv.sources,
    call: (p) => `flexq_conv_add_s8_dsp(${p.params}, ${p.inputs[0]}, ${p.inputs[1]}, ${p.output}, (int16_t *)(void *)${p.scratch});`,
  };
  return steps.flatMap((s) => (s === conv ? [] : s === add ? [step] : [s]));
}
