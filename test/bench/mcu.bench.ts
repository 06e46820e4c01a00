/**
 * `npm run bench -- mcu`: ResNet-8, DS-CNN and MNIST-8 (RTN W8A8), and the int8-reference models themselves, compiled
 * to C for the Cortex-M4, M7 and M55 with the reference and the optimized kernels (DSP extension on the M4 and M7; on
 * the M55 the GEMM's channel-pair loop and the depthwise conv in Helium/MVE): instructions per inference (QEMU under -icount shift=0 through SysTick,
 * instructions per tick measured by the harness's calibration loop), flash, arena (with and without in-place steps and residual fusion)
 * and stack, beside TFLite-Micro's figures on the same networks from ../shared/README.md (its int8-reference models,
 * Cortex-M4 in QEMU) and the ratios. Every build is also checked bit-exact against the integer runtime on the inputs.
 */
import { CORTEX_M_CORES, CORE_NAMES } from '../../targets/cortex-m/boards.js';
import { emitC } from '../../targets/cortex-m/emit-c.js';
import { C_ROUNDINGS as ROUNDINGS, KERNEL_SETS, lowerForC } from '../../targets/cortex-m/lower.js';
import { generateC } from '../../targets/cortex-m/library.js';
import { proveOnCortexM } from '../../targets/cortex-m/prove.js';
import { INT8_REFERENCE_CASES, MODEL_CASES, prepareCase } from '../targets/cortex-m/cases.js';
import type { BenchResult } from './table.js';

/** Inputs checked bit-exact per build (the instruction count is taken on the first). */
const CHECKED = 10;

/** TFLite-Micro on the int8-reference models, Cortex-M4F in QEMU mps2-an386 (../shared/README.md, "The MCU peer"). */
const TFLM: Record<string, { referenceM: number; cmsisNnM: number; arenaKB: number; flashKB: number; cmsisFlashKB: number }> = {
  'ResNet-8': { referenceM: 107.3, cmsisNnM: 29.9, arenaKB: 54.3, flashKB: 145, cmsisFlashKB: 179 },
  'DS-CNN': { referenceM: 43.0, cmsisNnM: 7.7, arenaKB: 22.8, flashKB: 96, cmsisFlashKB: 139 },
};

const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
const ratio = (a: number, b: number | undefined): string => (b === undefined ? '' : (a / b).toFixed(2));

export default async function mcu(): Promise<BenchResult> {
  const rows: (string | number)[][] = [];
  const raw: unknown[] = [];
  for (const c of [...MODEL_CASES, ...INT8_REFERENCE_CASES]) {
    const p = await prepareCase(c);
    const peer = TFLM[c.peer ?? c.name];
    for (const coreName of CORE_NAMES) {
      const core = CORTEX_M_CORES[coreName];
      for (const kernels of KERNEL_SETS) {
        // The converter's models, optimized, also with --rounding single (TFLite's single-rounding build). --rounding
        // xnnpack's figures are MobileNetV2's, `npm run bench -- mcu-mobilenetv2`.
        const roundings = INT8_REFERENCE_CASES.includes(c) && kernels === 'optimized' ? ROUNDINGS.filter((r) => r !== 'xnnpack') : (['double'] as const);
        for (const rounding of roundings) {
          const generated = generateC(p.q, kernels, { rounding });
          const lowered = lowerForC(p.q, kernels, rounding);
          const arenaWithoutInPlace = emitC(lowered, kernels, { inPlace: false }).arenaBytes;
          const arenaWithoutFusion = emitC(lowered, kernels, { fuseResidual: false }).arenaBytes;
          const r = await proveOnCortexM(p.q, generated, core, p.inputs.subarray(0, CHECKED * generated.inputBytes), CHECKED);
          if (!r.bitExact) throw new Error(`${c.name} ${core.name} ${kernels} ${rounding} rounding: ${r.mismatchedBytes} bytes differ from the integer runtime`);
          raw.push({ model: c.name, arenaWithoutInPlace, arenaWithoutFusion, ...r });
          const instructionsM = r.instructionsPerInference / 1e6;
          // reference kernels against TFLite-Micro's reference kernels, optimized ones against CMSIS-NN
          const peerM = kernels === 'reference' ? peer?.referenceM : peer?.cmsisNnM;
          rows.push([
            c.name, core.name, r.kernels, r.rounding, instructionsM.toFixed(2), peer ? peer.referenceM.toFixed(1) : '', peer ? peer.cmsisNnM.toFixed(1) : '',
            ratio(instructionsM, peerM), kib(r.flashBytes), peer ? `${peer.flashKB} / ${peer.cmsisFlashKB}` : '', ratio(r.flashBytes / 1024, peer?.flashKB),
            kib(r.constantBytes), kib(r.arenaBytes), kib(arenaWithoutFusion), kib(arenaWithoutInPlace), kib(r.stackBytes), kib(r.arenaBytes + r.stackBytes),
            peer ? peer.arenaKB.toFixed(1) : '', ratio(r.arenaBytes / 1024, peer?.arenaKB),
          ]);
        }
      }
    }
  }
  return {
    title: 'Generated C on Cortex-M in QEMU (RTN W8A8, and the int8-reference models as they are, also with --rounding single; gcc 12.2 -O2) beside TFLite-Micro',
    columns: [
      'model', 'core', 'kernels', 'rounding', 'M instr', 'TFLM ref M', 'TFLM+CMSIS-NN M', '× TFLM (ref: ref, optimized: CMSIS-NN)', 'flash KiB', 'TFLM flash KiB ref / CMSIS-NN', '× TFLM ref flash',
      'weights KiB', 'arena KiB', 'arena KiB, no residual fusion', 'arena KiB, no in-place', 'stack KiB', 'arena+stack KiB', 'TFLM arena KiB', '× TFLM arena',
    ],
    rows,
    notes: [
      'optimized = SMLAD kernels on the M4 and M7 (int16 weights packed offline, two interleaved im2col rows per LDM, one-SMLAL requantization); on the M55 the conv/fully-connected GEMM (VLDRH.S16 gathers, VMLADAVA.S16) and the depthwise conv (gathers, VMLA, VQRDMULH requantization) run on Helium (MVE).',
      'flash = text + rodata + data of the whole ELF (model, kernels, harness); weights = const arrays alone.',
      'TFLM columns: TFLite-Micro on the int8-reference .tflite models on the Cortex-M4 (../shared/README.md), shown on every core; the ratios divide by them.',
      '"int8-reference" rows: those same .tflite models compiled (per-channel conv weights), so the comparison with TFLM is byte for byte the same model.',
      '"no in-place": the arena when no step writes over an input that dies with it (element-wise ops, depthwise and 1×1 convs).',
      'rounding: double is TFLite-Micro\'s default requantization (checked against the runtime\'s tflite-double), single is --rounding single (TFLITE_SINGLE_ROUNDING, as LiteRT rounds; checked against tflite-single).',
      '"no residual fusion": in place, but no DSP conv runs with the Add that alone reads its output (that fused step writes the sum over the residual, so a residual block keeps two of its tensors, not three; optimized kernels only).',
      `Instructions: -icount shift=0 and SysTick; instructions per tick measured by the calibration loop: ${[...new Set(raw.map((r) => (r as { instructionsPerTick: number }).instructionsPerTick))].join(', ')}. Each build bit-exact on ${CHECKED} held-out inputs.`,
    ],
    extra: { reports: raw, tflm: TFLM },
  };
}
