// flexq as a library: one function per job, typed options, FlexqError for anything a user can fix.
//   import { quantize, exportModel, compile, validate } from 'flexq';
export { importModel, type ImportedModel } from './api/import.js';
export { quantize, QUANT_METHODS, WEIGHT_BITS, ACTIVATION_BITS, DEFAULT_ITERATIONS, type QuantizeOptions, type WeightBits, type ActivationBits } from './api/quantize.js';
export { exportModel, type ExportModelOptions } from './api/export.js';
export { compile, type CompileOptions, type CompileResult } from './api/compile.js';
export { evaluate, type EvaluateOptions, type EvalReport } from './api/evaluate.js';
export { validate, type ValidateOptions, type ValidateReport, type ExecutorReport, type LayerReport } from './api/validate.js';
export { run, type RunOptions, type RunReport, type SampleResult } from './api/run.js';
export type { DataOptions } from './api/data.js';
export type { JobHooks, Progress, ProgressFactory } from './api/progress.js';
export { compileTargets, describeTargets, executorNames, exportFormats } from './api/registry.js';
export { readFq as readQuantized, writeFq as writeQuantized } from './quant/fq-file.js';
export type { QuantizedGraph, QuantMethod } from './quant/quantized-graph.js';
export { REQUANT_MODES, type RequantMode } from './quant/requant-mode.js';
export type { BatchExecutor, CompileReport, Target } from './target.js';
export { ERROR_CODES, FlexqError, type ErrorCode } from './errors.js';
export { FLEXQ_VERSION } from './version.js';
