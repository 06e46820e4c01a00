// The C library folder as a firmware engineer receives it (DS-CNN, prefix kws, example for the cortex-m4): its files,
// their provenance header, the prefix on every exported name, the API's arena and quantization contracts on the host,
// warning-free builds with gcc (host, M4, M7, M55) and clang -Weverything, and its Makefile and CMakeLists.txt.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { CORTEX_M_CORES } from '../../../targets/cortex-m/boards.js';
import { C_WARNINGS, CLANG_WARNINGS, writeGenerated } from '../../../targets/cortex-m/build.js';
import type { GeneratedC } from '../../../targets/cortex-m/emit-c.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { C_REQUANT_MODE } from '../../../targets/cortex-m/lower.js';
import { runTool } from '../../../src/run-tool.js';
import { FLEXQ_VERSION } from '../../../src/version.js';
import { SHARED } from '../../helpers/shared.js';
import { lacksTools } from '../../helpers/tools.js';
import { CLANG_ARM } from './c-tools.js';
import { MODEL_CASES, prepareCase, type PreparedCase } from './cases.js';

const work = mkdtempSync(join(tmpdir(), 'flexq-c-library-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const DSCNN = MODEL_CASES.find((c) => c.name === 'DS-CNN')!;
const SYSTEM_HEADERS = new Set(['stdint.h', 'stddef.h', 'string.h', 'stdio.h', 'arm_acle.h', 'arm_mve.h']);

let p: PreparedCase;
let c: GeneratedC;
let dir: string;
beforeAll(async () => {
  p = await prepareCase(DSCNN);
  c = generateC(p.q, 'optimized', { prefix: 'kws', example: true, board: 'cortex-m4' });
  dir = join(work, 'kws');
  writeGenerated(c, dir);
});

/** gcc or clang on every library source (and `extra`), one object each into `out`; the failures' messages. */
async function compileAll(cc: string, flags: readonly string[], sources: readonly string[], out: string): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const errors: string[] = [];
  for (const s of sources) {
    const r = await runTool(cc, [...flags, `-I${dir}`, `-I${join(dir, 'example')}`, '-c', join(dir, s), '-o', join(out, `${s.replace(/\W/g, '_')}.o`)]);
    if (r.exitCode !== 0 || r.stderr !== '') errors.push(`${cc} ${s}:\n${r.stderr}`);
  }
  return errors;
}

describe('the C library folder (DS-CNN, prefix kws, with an example for the cortex-m4)', () => {
  it('holds the sources, README.md, a Makefile, a CMakeLists.txt and the example project', () => {
    expect([...c.files.keys()].sort()).toEqual([
      'CMakeLists.txt', 'Makefile', 'README.md', 'conv_dsp.c', 'depthwise_conv_dsp.c',
      'example/Makefile', 'example/example_input.h', 'example/main.c', 'example/memory.ld', 'example/sections.ld', 'example/semihosting.h', 'example/startup.c',
      'flexq_dsp.h', 'flexq_kernels.h', 'flexq_names.h', 'flexq_requant.h', 'fully_connected_dsp.c', 'gemm_dsp.c', 'gemm_dsp.h', 'global_average_pool.c',
      'model.c', 'model.h', 'softmax.c',
    ]);
    expect(c.sources).toEqual(['model.c', 'conv_dsp.c', 'depthwise_conv_dsp.c', 'fully_connected_dsp.c', 'gemm_dsp.c', 'global_average_pool.c', 'softmax.c']);
  });

  it('opens every file with the SPDX line and the provenance: model sha256, method, bit widths, calibration samples, flexq version', () => {
    const sha = createHash('sha256').update(readFileSync(p.q.info.model)).digest('hex');
    for (const [name, text] of c.files) {
      const [first, ...rest] = text.split('\n');
      expect(first, name).toMatch(/^(\/\*|#|<!--) SPDX-License-Identifier: Apache-2\.0( \*\/| -->)?$/);
      const head = rest.slice(0, 4).join('\n');
      for (const fact of [`flexq ${FLEXQ_VERSION}`, `float.onnx (sha256 ${sha})`, 'rtn', '8-bit weights', '8-bit activations', '500 calibration samples']) expect(head, `${name}: ${fact}`).toContain(fact);
    }
  });

  it('names no path of the build host, and in its text only files it ships (and the C library\'s headers)', () => {
    const shipped = new Set([...c.files.keys()].map((f) => f.split('/').pop()!));
    for (const [name, text] of c.files) {
      for (const host of [SHARED, process.cwd(), tmpdir(), homedir(), '/work/']) expect(text.includes(host), `${name} names ${host}`).toBe(false);
      for (const [file] of text.matchAll(/[\w.-]+\.(?:c|h|ts|ld|md)\b/g)) expect(shipped.has(file) || SYSTEM_HEADERS.has(file), `${name} mentions ${file}`).toBe(true);
    }
  });

  it('gives every macro of model.h the prefix KWS_ and every function kws_, and renames every kernel symbol', () => {
    const header = c.files.get('model.h')!;
    const macros = [...header.matchAll(/^#define (\w+)/gm)].map((m) => m[1]);
    expect(macros.length).toBeGreaterThan(15);
    for (const m of macros) expect(m).toMatch(/^KWS_/);
    const functions = [...header.matchAll(/^(?:int|void) (\w+)\(/gm)].map((m) => m[1]);
    expect(functions).toEqual(['kws_invoke', 'kws_invoke_with_arena', 'kws_quantize_input', 'kws_dequantize_output']);
    expect(header).toContain('extern "C" {');
    expect(c.files.get('flexq_names.h')).toContain('#define flexq_conv_s8_dsp kws_conv_s8_dsp');
  });

  it('refuses a prefix that is not a C identifier, saying what one looks like', () => {
    for (const prefix of ['9lives', 'int', 'a-b', '_x', ''])
      expect(() => generateC(p.q, 'optimized', { prefix }), prefix).toThrow(/--prefix .*: expected a C identifier .* e\.g\. kws or resnet8/);
  });

  it(`--rounding single: FLEXQ_SINGLE_ROUNDING 1 in flexq_names.h, said in README.md, clean under gcc ${C_WARNINGS.join(' ')}; an unknown rounding refused`, async () => {
    expect(c.files.get('flexq_names.h')).toContain('#define FLEXQ_SINGLE_ROUNDING 0');
    const single = generateC(p.q, 'optimized', { prefix: 'kws', rounding: 'single' });
    expect(single.rounding).toBe('single');
    expect(single.files.get('flexq_names.h')).toContain('#define FLEXQ_SINGLE_ROUNDING 1');
    expect(single.files.get('README.md')).toContain('requantization mode `tflite-single`');
    const singleDir = join(work, 'kws-single');
    writeGenerated(single, singleDir);
    const errors: string[] = [];
    for (const s of single.sources) {
      const r = await runTool('gcc', [...C_WARNINGS, '-O2', `-I${singleDir}`, '-c', join(singleDir, s), '-o', join(singleDir, `${s}.o`)]);
      if (r.exitCode !== 0 || r.stderr !== '') errors.push(`${s}:\n${r.stderr}`);
    }
    expect(errors).toEqual([]);
    expect(() => generateC(p.q, 'optimized', { rounding: 'half' as never })).toThrow(/--rounding half: expected one of double, single/);
  });

  it(`compiles for the host with gcc ${C_WARNINGS.join(' ')}; its only external symbols are kws_*`, async () => {
    const objects = join(work, 'host-objects');
    expect(await compileAll('gcc', [...C_WARNINGS, '-O2'], c.sources, objects)).toEqual([]);
    const nm = await runTool('nm', ['-g', '--defined-only', ...c.sources.map((s) => join(objects, `${s.replace(/\W/g, '_')}.o`))]);
    const symbols = nm.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3).map((f) => f[2]);
    expect(symbols).toContain('kws_invoke');
    expect(symbols.filter((s) => !s.startsWith('kws_'))).toEqual([]);
  });

  it('quantize_input rounds as the runtime (TFLite\'s QUANTIZE); invoke_with_arena checks size and alignment and gives invoke\'s bytes', async () => {
    const size = c.inputBytes;
    const { scale } = c.input.quant;
    // ties, values next to ties, saturation, infinities, NaN, signed zeros; the rest a real sample
    const special = [0, -0, NaN, Infinity, -Infinity, 1e30, -1e30, 127.5 * scale, -128.5 * scale, 300 * scale, -300 * scale];
    for (let k = -20; k <= 20; k++) special.push((k + 0.5) * scale, Math.fround((k + 0.5) * scale) * (1 + 2 ** -23), Math.fround((k + 0.5) * scale) * (1 - 2 ** -23), k * scale);
    const floats = Float32Array.from(p.floats.subarray(0, size));
    floats.set(special.slice(0, size));
    const test = join(work, 'api');
    mkdirSync(test, { recursive: true });
    writeFileSync(join(test, 'in.bin'), floats);
    writeFileSync(join(test, 'api.c'), `#include <stdio.h>
#include <stdint.h>
#include "model.h"
static float real[KWS_INPUT_SIZE];
static int8_t input[KWS_INPUT_SIZE], a[KWS_OUTPUT_SIZE], b[KWS_OUTPUT_SIZE], unused[KWS_OUTPUT_SIZE];
static union { int8_t bytes[KWS_ARENA_SIZE + 8]; int64_t align; } arena;
int main(int argc, char **argv) {
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  if (argc != 3 || !in || !out || fread(real, sizeof real[0], KWS_INPUT_SIZE, in) != KWS_INPUT_SIZE) return 2;
  kws_quantize_input(real, input);
  const int8_t codes[4] = {(int8_t)kws_invoke(input, a), (int8_t)kws_invoke_with_arena(input, b, arena.bytes, KWS_ARENA_SIZE),
    (int8_t)kws_invoke_with_arena(input, unused, arena.bytes, KWS_ARENA_SIZE - 1), (int8_t)kws_invoke_with_arena(input, unused, arena.bytes + 4, KWS_ARENA_SIZE)};
  fwrite(input, 1, sizeof input, out); fwrite(a, 1, sizeof a, out); fwrite(b, 1, sizeof b, out); fwrite(codes, 1, sizeof codes, out);
  return fclose(out);
}
`);
    const exe = join(test, 'api');
    const sanitizers = ['-fsanitize=address,undefined,float-cast-overflow', '-fno-sanitize-recover=all'];
    const gcc = await runTool('gcc', ['-std=c99', '-O1', '-g', ...sanitizers, `-I${dir}`, join(test, 'api.c'), ...c.sources.map((s) => join(dir, s)), '-o', exe]);
    expect(gcc.stderr).toBe('');
    const run = await runTool(exe, [join(test, 'in.bin'), join(test, 'out.bin')]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const out = new Int8Array(readFileSync(join(test, 'out.bin')));
    const runtime = createIntegerRuntime(p.q, C_REQUANT_MODE);
    const quantized = runtime.quantizeInput(floats);
    expect(out.subarray(0, size)).toEqual(quantized);
    const want = runtime.run({ shape: [1, ...c.input.shape], data: quantized }).get(p.q.graph.outputs[0])!.data;
    expect(out.subarray(size, size + c.outputBytes)).toEqual(want);
    expect(out.subarray(size + c.outputBytes, size + 2 * c.outputBytes)).toEqual(want);
    expect(Array.from(out.subarray(size + 2 * c.outputBytes))).toEqual([0, 0, 1, 2]); // OK, OK, ARENA_TOO_SMALL, ARENA_MISALIGNED
  });

  it('with -DKWS_NO_STATIC_ARENA leaves out the static arena and kws_invoke', async () => {
    const objects = join(work, 'no-static-arena');
    expect(await compileAll('gcc', [...C_WARNINGS, '-O2', '-DKWS_NO_STATIC_ARENA'], ['model.c'], objects)).toEqual([]);
    const nm = await runTool('nm', [join(objects, 'model_c.o')]);
    expect(nm.stdout).toContain('kws_invoke_with_arena');
    expect(nm.stdout).not.toMatch(/ kws_invoke\n|static_arena/);
  });

  it.skipIf(lacksTools('make', 'cmake'))('builds with its Makefile (host flags) and its CMakeLists.txt', async () => {
    const make = await runTool('make', ['-s', '-C', dir, 'CC=gcc', 'AR=ar', 'CPU_FLAGS=', `BUILD=${join(work, 'make-host')}`]);
    expect(make.stderr).toBe('');
    expect(make.exitCode).toBe(0);
    expect(readFileSync(join(work, 'make-host', 'libkws.a')).length).toBeGreaterThan(c.constantBytes);
    const build = join(work, 'cmake');
    const configure = await runTool('cmake', ['-S', dir, '-B', build, '-DCMAKE_C_COMPILER=gcc']);
    expect(configure.exitCode, configure.stderr).toBe(0);
    const cmake = await runTool('cmake', ['--build', build]);
    expect(cmake.exitCode, cmake.stdout + cmake.stderr).toBe(0);
    expect(cmake.stdout).toContain('Built target kws');
  });
});

describe.skipIf(lacksTools('arm-gcc'))('the C library on the Cortex-M cores with arm-none-eabi-gcc', () => {
  for (const core of Object.values(CORTEX_M_CORES)) {
    it(`${core.name}: the library and the example compile with ${C_WARNINGS.join(' ')}`, async () => {
      const sources = [...c.sources, 'example/main.c', 'example/startup.c'];
      expect(await compileAll('arm-none-eabi-gcc', ['-O2', '-mthumb', ...core.cflags, ...C_WARNINGS], sources, join(work, `gcc-${core.name}`))).toEqual([]);
    });
  }

  it.skipIf(lacksTools('make'))('make with the Makefile\'s defaults builds the cortex-m4 library', async () => {
    const make = await runTool('make', ['-s', '-C', dir, `BUILD=${join(work, 'make-m4')}`]);
    expect(make.stderr).toBe('');
    expect(make.exitCode).toBe(0);
  });
});

describe.skipIf(lacksTools('clang'))(`clang ${CLANG_WARNINGS.join(' ')}`, () => {
  it('the library compiles clean for the host', async () => {
    expect(await compileAll('clang', [...CLANG_WARNINGS, '-O2'], c.sources, join(work, 'clang-host'))).toEqual([]);
  });
  for (const core of Object.values(CORTEX_M_CORES)) {
    it(`the library and the example compile clean for the ${core.name}`, async () => {
      const sources = [...c.sources, 'example/main.c', 'example/startup.c'];
      expect(await compileAll('clang', [...CLANG_ARM, ...core.cflags, ...CLANG_WARNINGS, '-O2'], sources, join(work, `clang-${core.name}`))).toEqual([]);
    });
  }
});
