// The one interface every deployment target implements: what it can export, execute and compile (build and prove).
// Each targets/<name>/ folder exports one Target; targets/index.ts lists them, and the API and the CLI take their
// --format, --executor and --target names from that list, so a listed name always works.

import type { QdqFlavour } from './export/onnx-qdq.js';
import type { FloatTensor } from './tensor.js';
import type { Graph, Node } from './ir/graph.js';
import type { QuantizedGraph } from './ir/quantized-graph.js';
import type { RequantMode } from './quant/requant-mode.js';

/**
 * One way of running an artefact on float batches; every executor returns float tensors (integer executors
 * dequantize), so any two can be compared value by value.
 */
export interface BatchExecutor {
  readonly name: string;
  readonly graph: Graph;
  /** Runs a batch; `outputs` defaults to the graph outputs. Executors that can only give the graph outputs ignore other names. */
  run(input: FloatTensor, outputs?: readonly string[]): Promise<Map<string, FloatTensor>>;
  dispose(): void | Promise<void>;
}

/** Options every integer executor may read. */
export interface ExecutorOptions {
  /** Requantization mode of flexq's own runtime (executors with a fixed arithmetic ignore it). */
  readonly mode: RequantMode;
}

export type ExecutorFactory = (q: QuantizedGraph, o: ExecutorOptions) => Promise<BatchExecutor>;

/** An int8 model another tool made (the TFLite converter's .tflite, a QDQ .onnx): its file, run as it is. */
export interface ForeignArtefact {
  readonly path: string;
  readonly format: 'tflite' | 'onnx';
  readonly bytes: Uint8Array;
  /** The artefact in flexq's QuantizedGraph, where flexq imports it (int8 .tflite); the integer runtime runs this. */
  readonly q?: QuantizedGraph;
  /** Its graph inputs and outputs (NCHW), the names and shapes every executor of it uses. */
  readonly graph: Graph;
}

export type ForeignExecutorFactory = (a: ForeignArtefact, o: ExecutorOptions) => Promise<BatchExecutor>;

/** Options every exporter may read. */
export interface ExportOptions {
  /** Input/output tensors as int8 (the graph's own quantized I/O) or float (quantize/dequantize inside the model). */
  readonly io: 'int8' | 'float';
  /** Write into a non-empty output folder flexq did not write (folder formats only; other files are kept). */
  readonly force?: boolean;
  /** Source formats (c): what generated code is named and comes with. */
  readonly source?: SourceOptions;
  /** onnx-qdq: whose fast path the graph is laid out for (generic int8, or uint8 activations for onnxruntime-web / -node). */
  readonly flavour?: QdqFlavour;
}

/** What a user chooses about generated source code. */
export interface SourceOptions {
  /** The identifier every exported symbol starts with (NAME_invoke) and, upper-cased, every macro. */
  readonly prefix?: string;
  /** Also write a bare-metal example project for `board`. */
  readonly example?: boolean;
  /** The board (core) of the build files' default flags and of the example project, e.g. 'cortex-m4'. */
  readonly board?: string;
  /** Requantization rounding of the generated kernels: 'double' (TFLite-Micro's default), 'single' (TFLite's single-rounding build) or 'xnnpack' (LiteRT's default XNNPACK path). */
  readonly rounding?: Rounding;
}

/** The requantization roundings of generated source: TFLite's default double rounding, TFLITE_SINGLE_ROUNDING, or
 * XNNPACK's fp32 requantization (what LiteRT runs by default). */
export const ROUNDINGS = ['double', 'single', 'xnnpack'] as const;
export type Rounding = (typeof ROUNDINGS)[number];

/** Writes a quantized graph in one format to `output` (a file or a folder) and returns the paths it wrote. */
export type Exporter = (q: QuantizedGraph, output: string, o: ExportOptions) => Promise<string[]>;

export const KERNEL_SETS = ['reference', 'optimized'] as const;
export type KernelSet = (typeof KERNEL_SETS)[number];

/** What a compiler receives: the quantized graph, a folder to write into, and the inputs to prove it on. */
export interface CompileJob {
  readonly q: QuantizedGraph;
  /** An empty folder that becomes the output folder when the job succeeds. */
  readonly outDir: string;
  readonly kernels: KernelSet;
  /** Float samples, [count, ...sample shape] flattened. */
  readonly inputs: Float32Array;
  readonly count: number;
  /** Names and extras of generated source (the board is the compile target's own). */
  readonly source?: Omit<SourceOptions, 'board'>;
}

/** What every compile proves: the built artefact against flexq's integer runtime on the job's inputs. */
export interface CompileReport {
  readonly bitExact: boolean;
  readonly checked: number;
  readonly mismatchedBytes: number;
  /** The built artefact (an ELF, a binary): its path relative to the job's outDir. */
  readonly artefact: string;
}

export interface Compiler<R extends CompileReport = CompileReport> {
  /** The --executor name that runs what this compiler builds (e.g. qemu-m4 for cortex-m4), where there is one. */
  readonly executor?: string;
  /** Builds the artefact from the quantized graph into job.outDir and proves it. */
  compile(job: CompileJob): Promise<R>;
  /** The report as lines a person reads (the CLI prints them). */
  describe(report: R): string;
}

export interface Target {
  readonly name: string;
  readonly description: string;
  /** --executor names. */
  readonly executors?: Readonly<Record<string, ExecutorFactory>>;
  /** --executor names that run a foreign int8 artefact's own file in its real runtime, per file format (they win over `executors` for it). */
  readonly foreignExecutors?: Readonly<Partial<Record<ForeignArtefact['format'], Readonly<Record<string, ForeignExecutorFactory>>>>>;
  /** --format names. */
  readonly exporters?: Readonly<Record<string, Exporter>>;
  /** --target names of compile. */
  readonly compilers?: Readonly<Record<string, Compiler>>;
  /**
   * Why `node` of a float graph cannot be deployed on this target (no kernel, no exporter rule), or undefined when it
   * can: `quantize --target` and `compile` ask it of every node before calibration, so nothing is computed or written.
   */
  readonly cannotDeploy?: (node: Node, graph: Graph) => string | undefined;
}
