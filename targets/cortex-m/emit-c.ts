// The C sources of a lowered model: model.h (the API, the I/O grids as macros), model.c (weights, biases and kernel
// parameters as const data, one arena planned from tensor lifetimes, the calls in graph order), flexq_names.h (the
// kernels' symbols under the library's prefix) and the kernel sources the calls need, copied from kernels/. Every
// exported symbol and macro carries the prefix, so two libraries link into one firmware.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sizeOf } from '../../src/ir/shape.js';
import { commentText, DEFAULT_PREFIX, fileHeader, withHeader, type Provenance } from './library-options.js';
import type { CArray, CRounding, KernelSet, LoweredModel } from './lower.js';
import { arenaBuffers, scratchId } from './arena-buffers.js';
import { arrayBytes, cFloat } from './c-step.js';
import { fuseResidualAdds } from './fuse-residual.js';
import { ARENA_ALIGNMENT, planArena } from './plan-arena.js';
import { quantizeInputValueC, quantizeRuleFormula } from './quantize-input-c.js';

export const KERNELS_DIR = fileURLToPath(new URL('./kernels/', import.meta.url));

/** The header that renames the kernels' external symbols and sets their rounding (flexq_kernels.h includes it). */
export const NAMES_HEADER = 'flexq_names.h';

export interface GeneratedC {
  /** File name → contents, everything under one directory ('/'-separated names for sub-folders). */
  readonly files: ReadonlyMap<string, string>;
  /** The library's .c files to compile (model.c and the kernels it calls). */
  readonly sources: readonly string[];
  /** The library's headers. */
  readonly headers: readonly string[];
  /** The C identifier of every exported symbol; upper-cased, of every macro. */
  readonly prefix: string;
  readonly arenaBytes: number;
  /** Bytes of the const arrays (weights, biases, tables): the model's share of flash before code. */
  readonly constantBytes: number;
  readonly inputBytes: number;
  /** Every output's bytes: the caller's output buffer holds the outputs back to back. */
  readonly outputBytes: number;
  /** The model's input and output tensors (one sample, NCHW without the batch) and their int8 grids. */
  readonly input: LoweredModel['input'];
  /** How NAME_quantize_input puts a float on the input grid: the runtime's graph-input rule of the rounding's mode. */
  readonly inputRule: LoweredModel['inputRule'];
  readonly outputs: LoweredModel['outputs'];
  readonly kernels: KernelSet;
  /** Optimized builds: the layers whose GEMM weights stay int8 (SXTB16 at run time) so the constants fit the flash budget. */
  readonly int8WeightLayers: readonly string[];
  /** The requantization rounding the kernels are built with (cRequantMode gives the runtime's mode of the same bytes). */
  readonly rounding: CRounding;
}

export interface EmitOptions {
  readonly prefix?: string;
  /** Stated at the top of every file; without it, the graph's file name only. */
  readonly provenance?: Provenance;
  /** Let steps that allow it write over an input no later step reads (default true); false for the bench's comparison. */
  readonly inPlace?: boolean;
  /** With inPlace, run a DSP conv and the Add that alone reads its output as one step where that shrinks the arena
   * (fuse-residual.ts; default true); false for the bench's comparison. */
  readonly fuseResidual?: boolean;
}

export function emitC(lowered: LoweredModel, kernels: KernelSet, o: EmitOptions = {}): GeneratedC {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const inPlace = o.inPlace ?? true;
  const model = inPlace && (o.fuseResidual ?? true) ? fuseResidualAdds(lowered) : lowered;
  const header = fileHeader('c', o.provenance ?? bareProvenance(model), prefix);
  const { buffers, storage } = arenaBuffers(model, { inPlace });
  const plan = planArena(buffers);
  const kernelSources = [...new Set(model.steps.flatMap((s) => s.sources))].sort();
  const kernelText = new Map([...kernelSources, ...includedHeaders(kernelSources)].map((name) => [name, readFileSync(`${KERNELS_DIR}${name}`, 'utf8')]));
  const names = new CNames(prefix);
  const files = new Map<string, string>([
    ['model.h', header + modelHeader(model, plan.size, names)],
    ['model.c', header + modelSource(model, storage, plan.offsets, plan.size, names)],
    [NAMES_HEADER, header + namesHeader(kernelFunctions([...kernelText.values()]), prefix, model.rounding)],
  ]);
  for (const [name, text] of kernelText) files.set(name, withHeader(text, header));
  return {
    files,
    sources: ['model.c', ...kernelSources],
    headers: ['model.h', NAMES_HEADER, ...[...kernelText.keys()].filter((n) => n.endsWith('.h'))],
    prefix,
    arenaBytes: plan.size,
    constantBytes: arrayBytes(model.steps.flatMap((s) => s.arrays)),
    int8WeightLayers: model.int8WeightLayers,
    inputBytes: sizeOf(model.input.shape),
    outputBytes: outputOffsets(model.outputs).at(-1)!,
    input: model.input,
    inputRule: model.inputRule,
    outputs: model.outputs,
    kernels,
    rounding: model.rounding,
  };
}

/** Where each output starts in the caller's output buffer (the outputs back to back), then the buffer's size. */
function outputOffsets(outputs: LoweredModel['outputs']): number[] {
  const offsets = [0];
  for (const o of outputs) offsets.push(offsets.at(-1)! + sizeOf(o.shape));
  return offsets;
}

/** The macro prefix of each output (OUTPUT for a single one, OUTPUT0, OUTPUT1, … for several) and its offset. */
function outputMacros(model: LoweredModel): { readonly macro: string; readonly offset: number }[] {
  const offsets = outputOffsets(model.outputs);
  return model.outputs.map((_, k) => ({ macro: model.outputs.length === 1 ? 'OUTPUT' : `OUTPUT${k}`, offset: offsets[k] }));
}

function bareProvenance(model: LoweredModel): Provenance {
  return { model: model.graph.source.split(/[\\/]/).pop()!, method: 'unknown', wbits: 8, abits: 8, calibrationSamples: 0, flexqVersion: 'unknown' };
}

/** The kernel headers that `sources` include, directly or through other headers (quoted includes only). */
function includedHeaders(sources: readonly string[]): string[] {
  const found = new Set<string>();
  const visit = (name: string): void => {
    for (const [, header] of readFileSync(`${KERNELS_DIR}${name}`, 'utf8').matchAll(/^#include "([^"]+)"/gm)) {
      if (header === NAMES_HEADER || found.has(header)) continue;
      found.add(header);
      visit(header);
    }
  };
  sources.forEach(visit);
  visit('flexq_kernels.h'); // model.c includes it
  found.add('flexq_kernels.h');
  return [...found].sort();
}

/** The external functions the kernel sources define: every non-static definition of a flexq_ name. */
export function kernelFunctions(texts: readonly string[]): string[] {
  const names = new Set<string>();
  for (const text of texts) for (const [, name] of text.matchAll(/^(?!static\b)[A-Za-z_][\w \t*]*?\b(flexq_\w+)\s*\(/gm)) names.add(name);
  return [...names].sort();
}

function namesHeader(functions: readonly string[], prefix: string, rounding: CRounding): string {
  return [
    `/* The kernels' external symbols under this library's prefix (${prefix}_), so that several flexq libraries link into`,
    ` * one firmware, and the library's requantization rounding (flexq_requant.h): ${rounding}. flexq_kernels.h includes this file. */`,
    '#ifndef FLEXQ_NAMES_H',
    '#define FLEXQ_NAMES_H',
    '',
    ...functions.map((f) => `#define ${f} ${prefix}_${f.replace(/^flexq_/, '')}`),
    '',
    `#define FLEXQ_SINGLE_ROUNDING ${rounding === 'double' ? 0 : 1}`,
    `#define FLEXQ_FP32_REQUANT ${rounding === 'xnnpack' ? 1 : 0}`,
    '',
    '#endif',
    '',
  ].join('\n');
}


/** The prefixed names of the library's API. */
class CNames {
  readonly macro: string;
  constructor(readonly prefix: string) {
    this.macro = prefix.toUpperCase();
  }
  fn(name: string): string {
    return `${this.prefix}_${name}`;
  }
  m(name: string): string {
    return `${this.macro}_${name}`;
  }
}

export { cFloat } from './c-step.js';

/** An integer for a macro body: negative values in parentheses, so `a-X` stays a subtraction. */
const cInt = (v: number): string => (v < 0 ? `(${v})` : String(v));

function modelHeader(model: LoweredModel, arenaBytes: number, n: CNames): string {
  const io = (what: string, t: LoweredModel['input']): string[] => [
    `#define ${n.m(`${what}_SIZE`)} ${sizeOf(t.shape)}`,
    `/* NCHW shape of one sample (batch 1), tensor '${commentText(t.name)}' */`,
    `#define ${n.m(`${what}_SHAPE`)} {1, ${t.shape.join(', ')}}`,
    `#define ${n.m(`${what}_SCALE`)} ${cFloat(t.quant.scale)}`,
    `#define ${n.m(`${what}_ZERO_POINT`)} ${cInt(t.quant.zeroPoint)}`,
    `#define ${n.m(`${what}_MIN`)} ${cInt(t.quant.qmin)}`,
    `#define ${n.m(`${what}_MAX`)} ${cInt(t.quant.qmax)}`,
  ];
  return [
    `#ifndef ${n.m('H')}`,
    `#define ${n.m('H')}`,
    '',
    '#include <stddef.h>',
    '#include <stdint.h>',
    '',
    '#ifdef __cplusplus',
    'extern "C" {',
    '#endif',
    '',
    '/* Input and output are int8 on these grids: real = scale * (q - zero point), q in [MIN, MAX]. */',
    ...io('INPUT', model.input),
    ...outputsHeader(model, n, io),
    '',
    '/* Bytes of the arena that holds every intermediate tensor (planned from tensor lifetimes), and its alignment. */',
    `#define ${n.m('ARENA_SIZE')} ${Math.max(arenaBytes, 1)}`,
    `#define ${n.m('ARENA_ALIGNMENT')} ${ARENA_ALIGNMENT}`,
    '',
    '/* Return values of the invoke functions. */',
    `#define ${n.m('OK')} 0`,
    `#define ${n.m('ARENA_TOO_SMALL')} 1`,
    `#define ${n.m('ARENA_MISALIGNED')} 2`,
    '',
    `/* Runs one sample on the library's static arena; input and output must not overlap. No heap; not reentrant.`,
    ` * Returns ${n.m('OK')}. Compiling model.c with -D${n.m('NO_STATIC_ARENA')} leaves the static arena (and this function) out. */`,
    `int ${n.fn('invoke')}(const int8_t *input, int8_t *output);`,
    '',
    `/* Runs one sample on a caller's arena of arena_bytes >= ${n.m('ARENA_SIZE')} bytes, aligned to ${n.m('ARENA_ALIGNMENT')}`,
    ` * (its contents need no initialisation and are not kept between calls). Returns ${n.m('OK')}, or`,
    ` * ${n.m('ARENA_TOO_SMALL')} / ${n.m('ARENA_MISALIGNED')} without running. Reentrant with one arena per caller. */`,
    `int ${n.fn('invoke_with_arena')}(const int8_t *input, int8_t *output, void *arena, size_t arena_bytes);`,
    '',
    `/* real[${n.m('INPUT_SIZE')}] floats (NCHW) -> input: q = clamp(${quantizeRuleFormula(model.inputRule, n.m('INPUT_SCALE'))} +`,
    ` * ${n.m('INPUT_ZERO_POINT')}, MIN, MAX), in float (the runtime's rule for this rounding; NaN gives 0). No libm. */`,
    `void ${n.fn('quantize_input')}(const float *real, int8_t *input);`,
    '',
    model.outputs.length === 1
      ? `/* output -> real[${n.m('OUTPUT_SIZE')}] floats: real = ${n.m('OUTPUT_SCALE')} * (q - ${n.m('OUTPUT_ZERO_POINT')}). */`
      : `/* output -> real[${n.m('OUTPUT_SIZE')}] floats, output k on its grid: real = ${n.m('OUTPUTk_SCALE')} * (q - ${n.m('OUTPUTk_ZERO_POINT')}). */`,
    `void ${n.fn('dequantize_output')}(const int8_t *output, float *real);`,
    '',
    '#ifdef __cplusplus',
    '}',
    '#endif',
    '',
    '#endif',
    '',
  ].join('\n');
}

/** The output macros: one output's as the input's; several back to back, each with its offset and grid. */
function outputsHeader(model: LoweredModel, n: CNames, io: (what: string, t: LoweredModel['input']) => string[]): string[] {
  const count = `#define ${n.m('OUTPUT_COUNT')} ${model.outputs.length}`;
  if (model.outputs.length === 1) return [count, ...io('OUTPUT', model.outputs[0])];
  return [
    `/* ${model.outputs.length} outputs, back to back in the output buffer of ${n.m('OUTPUT_SIZE')} bytes: output k at ${n.m('OUTPUTk_OFFSET')}. */`,
    count,
    `#define ${n.m('OUTPUT_SIZE')} ${outputOffsets(model.outputs).at(-1)!}`,
    ...outputMacros(model).flatMap(({ macro, offset }, k) => [`#define ${n.m(`${macro}_OFFSET`)} ${offset}`, ...io(macro, model.outputs[k])]),
  ];
}

function cArray(a: CArray, attribute: string): string {
  const values = Array.from(a.values, a.type === 'float' ? cFloat : String);
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 24) lines.push(`  ${values.slice(i, i + 24).join(', ')},`);
  return `${attribute} static const ${a.type} ${a.name}[${values.length}] = {\n${lines.join('\n')}\n};`;
}

function modelSource(model: LoweredModel, storage: ReadonlyMap<string, string>, offsets: ReadonlyMap<string, number>, arenaBytes: number, n: CNames): string {
  const constAttribute = n.m('CONST_ATTRIBUTE');
  const arenaAttribute = n.m('ARENA_ATTRIBUTE');
  let readsArena = false;
  const pointer = (name: string): string => {
    const buffer = storage.get(name);
    if (buffer === undefined) return 'input';
    readsArena = true;
    return `(arena + ${offsets.get(buffer)!})`;
  };
  const data: string[] = [];
  const calls: string[] = [];
  model.steps.forEach((step, i) => {
    data.push(`/* ${commentText(step.node.name)} (${step.node.op}) */`, ...step.arrays.map((a) => cArray(a, constAttribute)));
    const params = `${step.node.op.toLowerCase()}_${i}`;
    if (step.params) data.push(`${constAttribute} static const ${step.params.type} ${params} = ${step.params.init};`);
    const scratch = step.scratchBytes > 0 ? `(arena + ${offsets.get(scratchId(i))!})` : 'NULL';
    calls.push(`  /* ${commentText(step.node.name)} (${step.node.op}) */`);
    calls.push(`  ${step.call({ params: `&${params}`, inputs: step.inputs.map(pointer), output: pointer(step.output), scratch })}`);
  });
  const outputCopy = outputMacros(model).map(({ offset }, k) => {
    const o = model.outputs[k];
    return `  memcpy(${offset === 0 ? 'output' : `output + ${offset}`}, ${pointer(o.name)}, ${sizeOf(o.shape)});`;
  });
  const quantize = [
    ...quantizeInputValueC(model.inputRule, (name) => n.m(name)),
    '',
    `void ${n.fn('quantize_input')}(const float *real, int8_t *input) {`,
    `  for (int32_t i = 0; i < ${n.m('INPUT_SIZE')}; i++) input[i] = quantize_input_value(real[i]);`,
    '}',
    '',
    `void ${n.fn('dequantize_output')}(const int8_t *output, float *real) {`,
    ...outputMacros(model).map(({ macro, offset }) => {
      const at = offset === 0 ? 'i' : `${n.m(`${macro}_OFFSET`)} + i`;
      return `  for (int32_t i = 0; i < ${n.m(`${macro}_SIZE`)}; i++) real[${at}] = ${n.m(`${macro}_SCALE`)} * (float)(output[${at}] - ${n.m(`${macro}_ZERO_POINT`)});`;
    }),
    '}',
  ];
  return [
    '#include <stddef.h>',
    '#include <stdint.h>',
    '#include <string.h>',
    '#include "model.h"',
    '#include "flexq_kernels.h"',
    '',
    '/* Placement: define these when compiling this file (README.md, "Placing the model in memory").',
    ` * ${constAttribute}: on every weight, bias, table and parameter array (default none: .rodata).`,
    ` * ${arenaAttribute}: on the static arena (default none: .bss), e.g. __attribute__((section(".sram2"))). */`,
    `#ifndef ${constAttribute}`,
    `#define ${constAttribute}`,
    '#endif',
    `#ifndef ${arenaAttribute}`,
    `#define ${arenaAttribute}`,
    '#endif',
    '',
    ...data,
    '',
    '/* The graph in order; every intermediate tensor lives at its planned offset in the arena. */',
    'static void run(const int8_t *input, int8_t *output, int8_t *arena) {',
    ...calls,
    ...outputCopy,
    ...(readsArena ? [] : ['  (void)arena;']),
    '}',
    '',
    `#ifndef ${n.m('NO_STATIC_ARENA')}`,
    `/* Aligned to ${ARENA_ALIGNMENT}: the planner aligns every offset to ${ARENA_ALIGNMENT}, and the DSP kernels read int16 scratch rows. */`,
    `${arenaAttribute} static union {`,
    `  int8_t bytes[${Math.max(arenaBytes, 1)}];`,
    '  int64_t align;',
    '} static_arena;',
    '',
    `int ${n.fn('invoke')}(const int8_t *input, int8_t *output) {`,
    '  run(input, output, static_arena.bytes);',
    `  return ${n.m('OK')};`,
    '}',
    '#endif',
    '',
    `int ${n.fn('invoke_with_arena')}(const int8_t *input, int8_t *output, void *arena, size_t arena_bytes) {`,
    `  if (arena_bytes < ${n.m('ARENA_SIZE')}) return ${n.m('ARENA_TOO_SMALL')};`,
    `  if (((uintptr_t)arena & ${ARENA_ALIGNMENT - 1}u) != 0) return ${n.m('ARENA_MISALIGNED')};`,
    '  run(input, output, (int8_t *)arena);',
    `  return ${n.m('OK')};`,
    '}',
    '',
    ...quantize,
    '',
  ].join('\n');
}
