// The package entry for JavaScript: flexq runs its TypeScript sources through tsx (no build step to go stale), so
// this registers tsx and then loads index.ts. ESM exports are static, hence the list; a test checks it equals
// index.ts's exports. TypeScript users get the types from index.ts itself (package.json "types").
import { register } from 'tsx/esm/api';

register();
const flexq = await import('./index.ts');

export const {
  ACTIVATION_BITS,
  DEFAULT_ITERATIONS,
  ERROR_CODES,
  FLEXQ_VERSION,
  FlexqError,
  QDQ_FLAVOURS,
  QUANT_METHODS,
  REQUANT_MODES,
  WEIGHT_BITS,
  WEIGHT_RANGES,
  compile,
  compileTargets,
  describeTargets,
  evaluate,
  executorNames,
  exportFormats,
  exportModel,
  importModel,
  quantize,
  readBitPlan,
  readQuantized,
  run,
  validate,
  writeBitPlan,
  writeQuantized,
  writeReport,
} = flexq;
