/* SPDX-License-Identifier: Apache-2.0 */
/* The example: one float input sample (example_input.h) quantized with flexq_model_quantize_input, one inference, and
 * the int8 output printed through semihosting (QEMU writes it to its standard output), 16 values a line after
 * "output:", then the index of the largest output. The exit status is 0 when all went well. */
#include <stdint.h>
#include "example_input.h"
#include "model.h"
#include "semihosting.h"

#define VALUES_PER_LINE 16

static int8_t input[FLEXQ_MODEL_INPUT_SIZE];
static int8_t output[FLEXQ_MODEL_OUTPUT_SIZE];

/* Writes v in decimal at p (no printf: newlib's would pull in the heap and stdio); returns the end. */
static char *append_int(char *p, int32_t v) {
  char digits[12];
  int32_t n = 0;
  uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
  do {
    digits[n++] = (char)('0' + u % 10u);
    u /= 10u;
  } while (u != 0u);
  if (v < 0) *p++ = '-';
  while (n > 0) *p++ = digits[--n];
  return p;
}

static char *append_text(char *p, const char *text) {
  while (*text) *p++ = *text++;
  return p;
}

int main(void) {
  flexq_model_quantize_input(example_input, input);
  if (flexq_model_invoke(input, output) != FLEXQ_MODEL_OK) return 1;
  char line[8 + VALUES_PER_LINE * 5 + 2];
  for (int32_t i = 0; i < FLEXQ_MODEL_OUTPUT_SIZE; i += VALUES_PER_LINE) {
    char *p = append_text(line, "output:");
    for (int32_t j = i; j < i + VALUES_PER_LINE && j < FLEXQ_MODEL_OUTPUT_SIZE; j++) p = append_int(append_text(p, " "), output[j]);
    p = append_text(p, "\n");
    *p = '\0';
    semihosting_write0(line);
  }
  int32_t top = 0;
  for (int32_t i = 1; i < FLEXQ_MODEL_OUTPUT_SIZE; i++)
    if (output[i] > output[top]) top = i;
  char *p = append_int(append_text(line, "top-1: "), top);
  p = append_text(p, "\n");
  *p = '\0';
  semihosting_write0(line);
  return 0;
}
