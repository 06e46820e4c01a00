/* SPDX-License-Identifier: Apache-2.0 */
/* The host harness: the generated C built with the host's gcc (for the sanitizers). Reads FLEXQ_MODEL_INPUT_SIZE int8
 * samples from argv[1] until its end and writes each output to argv[2]. */
#include <stdio.h>
#include "model.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s INPUTS OUTPUTS\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  FILE *out = fopen(argv[2], "wb");
  if (!in || !out) return 2;
  static int8_t input[FLEXQ_MODEL_INPUT_SIZE];
  static int8_t output[FLEXQ_MODEL_OUTPUT_SIZE];
  int runs = 0;
  while (fread(input, 1, FLEXQ_MODEL_INPUT_SIZE, in) == FLEXQ_MODEL_INPUT_SIZE) {
    flexq_model_invoke(input, output);
    if (fwrite(output, 1, FLEXQ_MODEL_OUTPUT_SIZE, out) != FLEXQ_MODEL_OUTPUT_SIZE) return 3;
    runs++;
  }
  fclose(in);
  return fclose(out) == 0 && runs > 0 ? 0 : 4;
}
