// Every deployment target, in the order --help lists them. Adding a target is one folder that exports a Target and
// one line here.
import type { Target } from '../src/target.js';
import { A100_TARGET } from './a100/target.js';
import { CORTEX_M_TARGET } from './cortex-m/target.js';
import { TFLITE_TARGET } from './tflite/target.js';
import { WEB_TARGET } from './web/target.js';

export const TARGETS: readonly Target[] = [CORTEX_M_TARGET, A100_TARGET, WEB_TARGET, TFLITE_TARGET];
