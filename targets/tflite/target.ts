// The TFLite target: the .tflite flatbuffer (int8, NHWC) and the real interpreters that run it in Node, LiteRT.js
// and tfjs-tflite, each through the XNNPACK delegate or its built-in kernels.
import { exportTflite } from '../../src/export/tflite/index.js';
import { OP_RULES } from '../../src/export/tflite/op-rules.js';
import type { Target } from '../../src/target.js';
import { tfliteExecutor } from './executor.js';
import { foreignLiteRt } from './foreign.js';

export const TFLITE_TARGET: Target = {
  name: 'tflite',
  description: 'TFLite flatbuffer (int8 per-tensor, NHWC), run in LiteRT.js and tfjs-tflite',
  exporters: { tflite: (q, output, o) => exportTflite(q, output, { io: o.io }) },
  executors: {
    litert: tfliteExecutor('litert', 'xnnpack'),
    'litert-builtin': tfliteExecutor('litert', 'builtin'),
    'tfjs-tflite': tfliteExecutor('tfjs-tflite', 'xnnpack'),
    'tfjs-tflite-builtin': tfliteExecutor('tfjs-tflite', 'builtin'),
  },
  foreignExecutors: { tflite: { litert: foreignLiteRt } },
  cannotDeploy: (node) => (OP_RULES.has(node.op) ? undefined : `the TFLite export has no builtin operator for ${node.op}`),
};
