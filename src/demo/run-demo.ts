// The demo pipeline: the whole product on a model trained on the spot, in one output folder written whole at the end.
// train → float accuracy → RTN and FlexRound at low bits (calibrated on calib/, scored on test/) → .tflite and ONNX QDQ
// → each run by its real runtime (LiteRT, onnxruntime-web) and byte-compared with flexq's integer runtime in the
// matching requantization mode → the Cortex-M4 C build run in QEMU (when the toolchain is installed).
// Every step reads and writes inside the staging folder that writeOutputFolder moves into place; every random choice
// comes from the seed, so a seed gives the same artefact bytes.

import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../../calibration/index.js';
import { CORTEX_M_TARGET, type CortexMCompileReport } from '../../targets/cortex-m/target.js';
import { qdqFlavourFor } from '../../targets/web/ort-executor.js';
import { pageConfig, QDQ_MODEL_FILE, WEB_CONFIG_FILE, type WebSettings } from '../../targets/web/web-config.js';
import { DEFAULT_BATCH, openData, readAllSamples, sampleShapeOf } from '../api/data.js';
import { evaluate } from '../api/evaluate.js';
import { quantizedExecutor, runtimeExecutor } from '../api/executors.js';
import { exportModel } from '../api/export.js';
import type { JobHooks } from '../api/progress.js';
import { quantize, type WeightBits } from '../api/quantize.js';
import { fail, FlexqError } from '../errors.js';
import { exportOnnxQdq } from '../export/onnx-qdq.js';
import type { Compiler } from '../target.js';
import { sizeOf } from '../ir/shape.js';
import { loadModel } from '../load-model.js';
import { argmaxRows } from '../metrics.js';
import { summarizeModel } from '../model-summary.js';
import { writeOutputFolder, type OutputFolderOptions } from '../output-folder.js';
import { writeFq } from '../quant/fq-file.js';
import { weightedLayers } from '../quant/layers.js';
import type { QuantizedGraph } from '../ir/quantized-graph.js';
import type { RequantMode } from '../quant/requant-mode.js';
import { installCommand } from '../install-tools.js';
import { hasSystemTool, systemTool, type SystemToolName } from '../system-tools.js';
import { BAR_CLASSES } from './synthetic-bars.js';
import { writeDemo } from './write-demo.js';

/**
 * Weight bits of the comparison. Measured on this model (400 held-out images): at W2 FlexRound beats RTN by 12.5–43.5
 * points over seeds 0–7 (RTN 55.5–87 %, FlexRound 98–100 %); at W3 by only 0.25–6.5 (seeds 0, 1, 2, 3, 7).
 */
export const DEMO_WBITS: WeightBits = 2;
export const DEMO_ABITS = 8;
/** Per layer: ~3 s for the six layers on 2 cores, and FlexRound W2 lands within 1.5 points of float (seeds 0–7). */
export const FLEXROUND_ITERATIONS = 500;
/** Held-out images the Cortex-M ELF is run on in QEMU (each input is one emulated inference). */
export const CORTEX_M_PROOF_INPUTS = 32;
export const CORTEX_M_CORE = 'cortex-m4';

/** The files of the demo folder, relative to it. */
export const DEMO_FILES = {
  model: 'model.onnx',
  test: 'test',
  calib: 'calib',
  rtn: `model-rtn-w${DEMO_WBITS}a${DEMO_ABITS}.fq`,
  flexround: `model-flexround-w${DEMO_WBITS}a${DEMO_ABITS}.fq`,
  tflite: 'model.tflite',
  qdq: QDQ_MODEL_FILE,
  web: WEB_CONFIG_FILE,
  c: 'c',
  elf: 'model.elf',
  report: 'report.json',
} as const;

export interface DemoOptions extends JobHooks {
  /** The output folder (written whole at the end; a foreign non-empty folder needs `force`). */
  readonly output: string;
  readonly seed: number;
  readonly force?: boolean;
  /** Training progress (every 50 steps). */
  readonly onTrainStep?: (step: number, steps: number, loss: number) => void;
}

export interface Top1 {
  /** Top-1 accuracy on the held-out images, in [0, 1]. */
  readonly top1: number;
}

export interface QuantizedResult extends Top1 {
  readonly method: 'rtn' | 'flexround';
  readonly file: string;
  readonly seconds: number;
}

/** One real runtime on one exported file, against flexq's integer runtime in the mode that matches it. */
export interface ExecutorCheck extends Top1 {
  readonly executor: string;
  readonly artefact: string;
  readonly mode: RequantMode;
  readonly samples: number;
  /** int8 output elements compared (one byte each). */
  readonly outputBytes: number;
  readonly mismatchedBytes: number;
}

export type CortexMResult =
  | ({ readonly status: 'proved'; readonly elf: string; readonly cLibrary: string; readonly outputBytes: number } & Omit<CortexMCompileReport, 'elf' | 'artefact'>)
  | { readonly status: 'skipped'; readonly core: string; readonly missing: readonly string[]; readonly reason: string; readonly install: string }
  | { readonly status: 'failed'; readonly core: string; readonly reason: string };

export interface DemoReport {
  readonly seed: number;
  readonly folder: string;
  readonly model: {
    readonly file: string;
    readonly classes: readonly string[];
    readonly weightedLayers: number;
    readonly params: number;
    readonly macs: number;
    readonly trainSeconds: number;
    readonly testImages: number;
    readonly calibImages: number;
  };
  readonly float: Top1;
  readonly wbits: number;
  readonly abits: number;
  readonly flexroundIterations: number;
  readonly rtn: QuantizedResult;
  readonly flexround: QuantizedResult;
  /** FlexRound's top-1 minus RTN's, in percentage points. */
  readonly gainPoints: number;
  readonly exports: { readonly tflite: { file: string; bytes: number }; readonly qdq: { file: string; bytes: number } };
  readonly executors: readonly ExecutorCheck[];
  readonly cortexM: CortexMResult;
  /** Every artefact written, by role, as paths under the output folder (c and elf only when the Cortex-M build ran). */
  readonly files: Readonly<Partial<Record<keyof typeof DEMO_FILES, string>>>;
  /** The command that shows the QDQ model in a browser. */
  readonly serve: string;
  readonly seconds: number;
}

/** The real runtimes checked, each with the runtime mode that is bit-exact to it (DESIGN.md "Integer arithmetic"). */
const EXECUTOR_CHECKS: readonly { executor: string; artefact: keyof typeof DEMO_FILES; mode: RequantMode }[] = [
  { executor: 'ort-web', artefact: 'qdq', mode: 'onnx' },
  { executor: 'litert', artefact: 'tflite', mode: 'tflite-xnnpack' },
];

const CORTEX_M_TOOLS: readonly { tool: SystemToolName; program: string }[] = [
  { tool: 'arm-gcc', program: 'arm-none-eabi-gcc' },
  { tool: 'qemu-arm', program: 'qemu-system-arm' },
];

/** A path as it must be typed in a POSIX shell. */
export const shellWord = (path: string): string => (/^[\w./:-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`);

/**
 * The quantized graph as made from DIR/model.onnx, whatever folder it was built in: the staging folder's name (it
 * carries the process id) would otherwise be written into the artefacts (the .fq, the QDQ doc string, the C header).
 */
const fromDemoModel = (q: QuantizedGraph): QuantizedGraph => ({ ...q, graph: { ...q.graph, source: DEMO_FILES.model }, info: { ...q.info, model: DEMO_FILES.model } });

/** Runs a real runtime and flexq's integer runtime on every held-out image and counts the int8 output bytes that differ. */
async function checkExecutor(q: QuantizedGraph, check: (typeof EXECUTOR_CHECKS)[number], data: Dataset, artefact: string): Promise<ExecutorCheck> {
  const output = q.graph.outputs[0];
  const grid = q.activations.get(output)!;
  // Both executors dequantize their int8 outputs; mapping back onto the grid is exact and compares the bytes themselves.
  const toInt8 = (v: number): number => Math.round(v / grid.scale) + grid.zeroPoint;
  const reference = await runtimeExecutor(q, { mode: check.mode });
  const tested = await quantizedExecutor(q, check.executor, { mode: check.mode });
  let [samples, outputBytes, mismatchedBytes, correct] = [0, 0, 0, 0];
  try {
    for await (const batch of data.batches(DEFAULT_BATCH)) {
      const input = { shape: [batch.count, ...data.sampleShape], data: batch.data };
      const want = (await reference.run(input)).get(output)!.data;
      const got = (await tested.run(input)).get(output)!.data;
      for (let i = 0; i < want.length; i++) if (toInt8(want[i]) !== toInt8(got[i])) mismatchedBytes++;
      correct += argmaxRows(got, batch.count).filter((c, i) => c === batch.labels![i]).length;
      outputBytes += want.length;
      samples += batch.count;
    }
  } finally {
    await reference.dispose();
    await tested.dispose();
  }
  return { executor: check.executor, artefact, mode: check.mode, samples, outputBytes, mismatchedBytes, top1: correct / samples };
}

/** The first `count` held-out images as one float array, the inputs the Cortex-M build is proven on. */
async function proofInputs(path: string, sampleShape: readonly number[], count: number): Promise<{ inputs: Float32Array; count: number }> {
  const data = await openData(path, { preprocess: 'unit', limit: count }, sampleShape);
  return { inputs: await readAllSamples(data), count: data.size };
}

/** What the Cortex-M row says when the toolchain or QEMU is absent: which, and the commands that add them. */
function cortexMSkipped(): Extract<CortexMResult, { status: 'skipped' }> | undefined {
  const missing = CORTEX_M_TOOLS.filter((t) => !hasSystemTool(t.tool));
  if (missing.length === 0) return undefined;
  const programs = missing.map((t) => t.program);
  const apt = installCommand(missing.map((t) => systemTool(t.tool)), { sudo: true });
  return {
    status: 'skipped',
    core: CORTEX_M_CORE,
    missing: programs,
    reason: `${programs.join('/')} not installed`,
    install: `npm run setup (or: ${apt})`,
  };
}

/** Builds the C library and ELF into `dir` and runs it in QEMU; a build or run failure becomes the row's message. */
async function proveCortexM(
  q: QuantizedGraph,
  dir: string,
  inputs: { inputs: Float32Array; count: number },
  final: (rel: string) => string,
): Promise<Exclude<CortexMResult, { status: 'skipped' }>> {
  // The Cortex-M target's compilers return its own report (flash, RAM, instructions), typed as the generic one.
  const compiler = CORTEX_M_TARGET.compilers![CORTEX_M_CORE] as Compiler<CortexMCompileReport>;
  try {
    const { artefact: _artefact, ...report } = await compiler.compile({ q, outDir: dir, kernels: 'optimized', ...inputs });
    const outputBytes = report.checked * sizeOf(q.graph.values.get(q.graph.outputs[0])!.shape.slice(1) as number[]);
    return { status: 'proved', ...report, outputBytes, elf: final(DEMO_FILES.elf), cLibrary: final(DEMO_FILES.c) };
  } catch (e) {
    if (!(e instanceof FlexqError)) throw e;
    return { status: 'failed', core: CORTEX_M_CORE, reason: e.message };
  }
}

/** Runs the whole demo into `o.output` and returns every figure; the folder is written only when all steps ran. */
export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const start = performance.now();
  const log = o.log ?? (() => {});
  const hooks: JobHooks = { progress: o.progress, log };
  const final = (rel: string): string => join(o.output, rel);
  let report: DemoReport | undefined;
  await writeOutputFolder(o.output, async (dir) => {
    const at = (rel: string): string => join(dir, rel);
    log(`demo: training the CNN on synthetic bars (seed ${o.seed})`);
    const files = await writeDemo(dir, o.seed, o.onTrainStep);
    const { graph } = loadModel(files.model);
    const summary = summarizeModel(graph);
    const sampleShape = sampleShapeOf(graph, files.model);
    const data = { data: files.test, preprocess: 'unit' as const }; // a few hundred images: no progress lines

    log(`demo: float accuracy on ${files.testImages} held-out images`);
    const float = await evaluate(files.model, data);

    const quantized = async (method: 'rtn' | 'flexround'): Promise<{ q: QuantizedGraph; result: QuantizedResult }> => {
      log(`demo: ${method} W${DEMO_WBITS}A${DEMO_ABITS}, calibrated on ${files.calibImages} images of ${DEMO_FILES.calib}/`);
      const t = performance.now();
      const q = fromDemoModel(
        await quantize(files.model, { ...hooks, calib: files.calib, preprocess: 'unit', method, wbits: DEMO_WBITS, abits: DEMO_ABITS, seed: o.seed, iters: FLEXROUND_ITERATIONS }),
      );
      const seconds = (performance.now() - t) / 1000;
      const file = DEMO_FILES[method];
      writeFq(at(file), q);
      const { top1 } = await evaluate(at(file), data);
      return { q, result: { method, file: final(file), top1, seconds } };
    };
    const rtn = await quantized('rtn');
    const flexround = await quantized('flexround');
    const q = flexround.q;

    log(`demo: exporting ${DEMO_FILES.tflite} and ${DEMO_FILES.qdq}`);
    // Float I/O, what LiteRT and the onnxruntime-web page feed and read; the QDQ graph in onnxruntime-web's flavour.
    // These are the bytes the litert and ort-web executors below build and run.
    await exportModel(q, { format: 'tflite', output: at(DEMO_FILES.tflite), io: 'float' });
    await exportOnnxQdq(q, at(DEMO_FILES.qdq), { io: 'float', flavour: qdqFlavourFor(q, 'web') });
    const web: WebSettings = { preprocess: 'unit', labels: [...BAR_CLASSES] };
    writeFileSync(at(DEMO_FILES.web), JSON.stringify(web, null, 2) + '\n');
    pageConfig(dir); // the folder `flexq serve` will be given: fails here, not in the browser, if it is incomplete

    const executors: ExecutorCheck[] = [];
    for (const check of EXECUTOR_CHECKS) {
      log(`demo: ${check.executor} on ${DEMO_FILES[check.artefact]} against the integer runtime (${check.mode})`);
      executors.push(await checkExecutor(q, check, await openData(files.test, { preprocess: 'unit' }, sampleShape), final(DEMO_FILES[check.artefact])));
    }

    const skipped = cortexMSkipped();
    if (skipped) log(`demo: ${CORTEX_M_CORE} skipped: ${skipped.reason}`);
    else log(`demo: ${CORTEX_M_CORE}: C library, arm-none-eabi-gcc, QEMU on ${CORTEX_M_PROOF_INPUTS} held-out images`);
    const cortexM = skipped ?? (await proveCortexM(q, dir, await proofInputs(files.test, sampleShape, CORTEX_M_PROOF_INPUTS), final));

    const roles = Object.keys(DEMO_FILES) as (keyof typeof DEMO_FILES)[];
    const written = Object.fromEntries(roles.filter((r) => r === 'report' || existsSync(at(DEMO_FILES[r]))).map((r) => [r, final(DEMO_FILES[r])]));
    report = {
      seed: o.seed,
      folder: o.output,
      model: {
        file: final(DEMO_FILES.model),
        classes: BAR_CLASSES,
        weightedLayers: weightedLayers(graph).length,
        params: summary.params,
        macs: summary.macs,
        trainSeconds: files.trainSeconds,
        testImages: files.testImages,
        calibImages: files.calibImages,
      },
      float: { top1: float.top1 },
      wbits: DEMO_WBITS,
      abits: DEMO_ABITS,
      flexroundIterations: FLEXROUND_ITERATIONS,
      rtn: rtn.result,
      flexround: flexround.result,
      gainPoints: Number((100 * (flexround.result.top1 - rtn.result.top1)).toFixed(2)),
      exports: {
        tflite: { file: final(DEMO_FILES.tflite), bytes: statSync(at(DEMO_FILES.tflite)).size },
        qdq: { file: final(DEMO_FILES.qdq), bytes: statSync(at(DEMO_FILES.qdq)).size },
      },
      executors,
      cortexM,
      files: written,
      serve: `npx flexq serve ${shellWord(o.output)}`,
      seconds: (performance.now() - start) / 1000,
    };
    writeFileSync(at(DEMO_FILES.report), JSON.stringify(report, null, 2) + '\n');
  }, { force: o.force } satisfies OutputFolderOptions);
  if (!report) return fail('FILE_SYSTEM', `${o.output}: the demo folder was not written`);
  return { ...report, seconds: (performance.now() - start) / 1000 };
}
