// The library's NAME_quantize_input in C, written from the runtime's rule of the library's mode (graphInputRule in
// runtime/quantize-input.ts): one source for how the C and the runtime put a float input on the grid.

import type { QuantizeRule } from '../../runtime/quantize-input.js';
import { cFloat } from './c-step.js';

/** The rule as one line of math for model.h and README.md, e.g. `round_half_to_even(real * 39.2156868f)`. */
export function quantizeRuleFormula(rule: QuantizeRule, scaleMacro: string): string {
  const real = rule.kind === 'divide' ? `real / ${scaleMacro}` : `real * ${cFloat(rule.reciprocal)}`;
  return `${rule.ties === 'away' ? 'round_half_away_from_zero' : 'round_half_to_even'}(${real})`;
}

/** Ties rounding as the C library functions a user might reach for do it. */
const LIBM_TIES: Record<QuantizeRule['ties'], string> = {
  away: '`roundf()` rounds the same way; `lrintf()`, `nearbyintf()` and a cast after adding 0.5 do not (they differ on ties)',
  even: '`lrintf()` and `nearbyintf()` round the same way under the default rounding mode; `roundf()` and a cast after adding 0.5 do not (they differ on ties)',
};

/** How to reproduce the rule with libm, for README.md. */
export function quantizeRuleNote(rule: QuantizeRule, scaleMacro: string): string {
  const operation = rule.kind === 'divide'
    ? `the quotient by \`${scaleMacro}\` computed in float (single precision), not as \`real\` times a reciprocal`
    : `\`real\` times the float reciprocal of \`${scaleMacro}\`, ${cFloat(rule.reciprocal)}, in float (single precision), not a quotient`;
  return `${operation}. ${LIBM_TIES[rule.ties]}.`;
}

/** r − (int32_t)r ∈ (−1, 1) is exact below 256: its sign and size against ½ settle the rounding (no float ==, no libm). */
const ROUND_STEP: Record<QuantizeRule['ties'], readonly string[]> = {
  away: ['    if (fraction >= 0.5f) q++;', '    else if (fraction <= -0.5f) q--;'],
  even: [
    '    if (fraction > 0.5f) q++;',
    '    else if (fraction >= 0.5f) q += q & 1; /* a tie: to the even neighbour */',
    '    else if (fraction < -0.5f) q--;',
    '    else if (fraction <= -0.5f) q -= q & 1;',
  ],
};

/** The static function that quantizes one float, `quantize_input_value`, for a grid whose macros start with `macro`. */
export function quantizeInputValueC(rule: QuantizeRule, macro: (name: string) => string): string[] {
  const real = rule.kind === 'divide' ? `x / ${macro('INPUT_SCALE')}` : `x * ${cFloat(rule.reciprocal)}`;
  return [
    `/* ${quantizeRuleFormula(rule, macro('INPUT_SCALE'))} in float, without libm. */`,
    'static int8_t quantize_input_value(float x) {',
    `  const float r = ${real};`,
    '  int32_t q;',
    '  if (r >= 256.0f) {',
    '    q = 256;',
    '  } else if (r > -256.0f) {',
    '    q = (int32_t)r; /* toward zero, exact below 256 */',
    '    const float fraction = r - (float)q;',
    ...ROUND_STEP[rule.ties],
    '  } else if (r <= -256.0f) {',
    '    q = -256;',
    '  } else {',
    '    return 0; /* NaN */',
    '  }',
    `  q += ${macro('INPUT_ZERO_POINT')};`,
    `  return (int8_t)(q < ${macro('INPUT_MIN')} ? ${macro('INPUT_MIN')} : q > ${macro('INPUT_MAX')} ? ${macro('INPUT_MAX')} : q);`,
    '}',
  ];
}
