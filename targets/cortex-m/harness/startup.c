/* SPDX-License-Identifier: Apache-2.0 */
/* Reset and exception vectors for the QEMU boards: copy .data, clear .bss, enable the FPU, run main, exit through
 * semihosting with main's status. A fault exits with status 0xF0 + the exception number instead of hanging. */
#include <stdint.h>
#include <string.h>
#include "semihosting.h"

extern uint32_t flexq_data_load, flexq_data_start, flexq_data_end, flexq_bss_start, flexq_bss_end, flexq_stack_top;
int main(void);
__attribute__((noreturn)) void reset_handler(void);
void flexq_systick_handler(void);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)

void reset_handler(void) {
  memcpy(&flexq_data_start, &flexq_data_load, (size_t)((char *)&flexq_data_end - (char *)&flexq_data_start));
  memset(&flexq_bss_start, 0, (size_t)((char *)&flexq_bss_end - (char *)&flexq_bss_start));
  SCB_CPACR |= 0xFu << 20; /* CP10, CP11 full access: the hard-float ABI uses the FPU */
  __asm__ volatile("dsb\n isb" ::: "memory");
  semihosting_exit((uint32_t)main());
}

__attribute__((noreturn)) static void fault_handler(void) {
  semihosting_exit(0xF0u + (SCB_ICSR & 0x1FFu));
}

/* SysTick does nothing unless the program brings its own handler (the proof harness counts ticks with it). */
__attribute__((weak)) void flexq_systick_handler(void) {}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
  (void (*)(void))(uintptr_t)&flexq_stack_top,
  reset_handler,
  fault_handler, /* NMI */
  fault_handler, /* HardFault */
  fault_handler, /* MemManage */
  fault_handler, /* BusFault */
  fault_handler, /* UsageFault */
  fault_handler, /* SecureFault (v8-M) */
  0, 0, 0,
  fault_handler, /* SVCall */
  fault_handler, /* DebugMonitor */
  0,
  fault_handler, /* PendSV */
  flexq_systick_handler,
};
