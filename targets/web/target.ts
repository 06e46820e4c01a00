// The ONNX target: the QDQ graph, run by onnxruntime-node and onnxruntime-web (wasm, in Node and in the browser page).
import { exportOnnxQdq, QDQ_OPS } from '../../src/export/onnx-qdq.js';
import type { Target } from '../../src/target.js';
import { foreignOrt } from './foreign.js';
import { createOrtExecutor } from './ort-executor.js';

export const WEB_TARGET: Target = {
  name: 'onnx',
  description: 'ONNX QDQ graph for onnxruntime-node and onnxruntime-web (browser page: flexq serve)',
  exporters: { 'onnx-qdq': exportOnnxQdq },
  executors: {
    'ort-node': (q) => createOrtExecutor(q, 'node'),
    'ort-web': (q) => createOrtExecutor(q, 'web'),
  },
  foreignExecutors: { onnx: { 'ort-node': foreignOrt('node'), 'ort-web': foreignOrt('web') } },
  cannotDeploy: (node) => (QDQ_OPS.has(node.op) ? undefined : `the ONNX QDQ export has no rule for ${node.op}`),
};
