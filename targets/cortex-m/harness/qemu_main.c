/* SPDX-License-Identifier: Apache-2.0 */
/* The QEMU proof harness: one boot runs every input of flexq-in.bin (FLEXQ_MODEL_INPUT_SIZE int8 each) through
 * flexq_model_invoke and appends each output to flexq-out.bin, all through semihosting. flexq-stats.bin receives
 * uint32 words: the SysTick ticks of a calibration loop of CALIBRATION_INSTRUCTIONS instructions, that count, the
 * ticks of each inference, and last the stack bytes used. SysTick counts processor clocks; under -icount shift=0 every
 * instruction takes the same virtual time, so instructions = ticks × CALIBRATION_INSTRUCTIONS / calibration ticks. */
#include <stdint.h>
#include "model.h"
#include "semihosting.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)
#define SYSTICK_RELOAD 0xFFFFFFu
#define CALIBRATION_ITERATIONS 500000u
/* subs + bne per iteration */
#define CALIBRATION_INSTRUCTIONS (2u * CALIBRATION_ITERATIONS)
#define STACK_PAINT 0xA5A5A5A5u

extern uint32_t flexq_stack_limit;
static volatile uint32_t systick_wraps;

/* SysTick's entry in startup.c's vector table (this definition replaces the weak one there). */
void flexq_systick_handler(void);
void flexq_systick_handler(void) { systick_wraps++; }

/* Ticks since start_systick. A wrap whose interrupt is still pending (PENDSTSET) is counted here, so the time
 * never steps back between the reload and the handler. */
static uint32_t ticks(void) {
  __asm__ volatile("cpsid i" ::: "memory");
  uint32_t wraps = systick_wraps;
  uint32_t count = SYST_CVR;
  if (SCB_ICSR & ICSR_PENDSTSET) {
    count = SYST_CVR;
    wraps++;
  }
  __asm__ volatile("cpsie i" ::: "memory");
  return wraps * (SYSTICK_RELOAD + 1u) + (SYSTICK_RELOAD - count);
}

/* Enabling SysTick with the counter at 0 pends one interrupt at once (QEMU): drop it, then count from zero. */
static void start_systick(void) {
  SYST_RVR = SYSTICK_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, interrupt on wrap, processor clock */
  __asm__ volatile("dsb\n isb" ::: "memory");
  SCB_ICSR = ICSR_PENDSTCLR;
  systick_wraps = 0;
}

static uint32_t calibration_ticks(void) {
  uint32_t n = CALIBRATION_ITERATIONS;
  const uint32_t start = ticks();
  __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
  return ticks() - start;
}

/* Fills the unused stack below the current frame, so the deepest write can be found afterwards. */
static void paint_stack(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t *p = &flexq_stack_limit; (uint32_t)(uintptr_t)p < sp - 256u; p++) *p = STACK_PAINT;
}

static uint32_t stack_used(void) {
  const uint32_t *p = &flexq_stack_limit;
  extern uint32_t flexq_stack_top;
  while (p < &flexq_stack_top && *p == STACK_PAINT) p++;
  return (uint32_t)((const char *)&flexq_stack_top - (const char *)p);
}

static int8_t input[FLEXQ_MODEL_INPUT_SIZE];
static int8_t output[FLEXQ_MODEL_OUTPUT_SIZE];

int main(void) {
  paint_stack();
  start_systick();
  const int32_t in = semihosting_open("flexq-in.bin", 12, SEMIHOSTING_MODE_READ_BINARY);
  const int32_t out = semihosting_open("flexq-out.bin", 13, SEMIHOSTING_MODE_WRITE_BINARY);
  const int32_t stats = semihosting_open("flexq-stats.bin", 15, SEMIHOSTING_MODE_WRITE_BINARY);
  if (in < 0 || out < 0 || stats < 0) return 2;
  const uint32_t header[2] = {calibration_ticks(), CALIBRATION_INSTRUCTIONS};
  if (semihosting_write(stats, header, sizeof header) != 0) return 3;
  uint32_t runs = 0;
  while (semihosting_read(in, input, FLEXQ_MODEL_INPUT_SIZE) == 0) {
    const uint32_t start = ticks();
    flexq_model_invoke(input, output);
    const uint32_t elapsed = ticks() - start;
    if (semihosting_write(out, output, FLEXQ_MODEL_OUTPUT_SIZE) != 0 || semihosting_write(stats, &elapsed, sizeof elapsed) != 0) return 3;
    runs++;
  }
  const uint32_t stack = stack_used();
  semihosting_close(in);
  semihosting_close(out);
  if (semihosting_write(stats, &stack, sizeof stack) != 0) return 3;
  semihosting_close(stats);
  return runs > 0 ? 0 : 4;
}
