/* SPDX-License-Identifier: Apache-2.0 */
/* ARM semihosting (bkpt 0xAB): the console, file and exit calls the QEMU harness and the example need. QEMU serves
 * them on the host with -semihosting-config enable=on,target=native; paths are relative to QEMU's working directory. */
#ifndef FLEXQ_SEMIHOSTING_H
#define FLEXQ_SEMIHOSTING_H

#include <stdint.h>

enum {
  SYS_OPEN = 0x01,
  SYS_CLOSE = 0x02,
  SYS_WRITE0 = 0x04,
  SYS_WRITE = 0x05,
  SYS_READ = 0x06,
  SYS_EXIT_EXTENDED = 0x20,
};

enum { SEMIHOSTING_MODE_READ_BINARY = 1, SEMIHOSTING_MODE_WRITE_BINARY = 5 };

/* ADP_Stopped_ApplicationExit: SYS_EXIT_EXTENDED's reason for a normal exit with a status. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static inline int32_t semihosting_call(int32_t op, const void *args) {
  register int32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = args;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

/* Writes a NUL-terminated string to the debug console (QEMU: its standard output). */
static inline void semihosting_write0(const char *text) {
  semihosting_call(SYS_WRITE0, text);
}

/* A handle (≥ 0) or −1. */
static inline int32_t semihosting_open(const char *path, uint32_t length, uint32_t mode) {
  const uint32_t args[3] = {(uint32_t)(uintptr_t)path, mode, length};
  return semihosting_call(SYS_OPEN, args);
}

static inline void semihosting_close(int32_t handle) {
  const uint32_t args[1] = {(uint32_t)handle};
  semihosting_call(SYS_CLOSE, args);
}

/* Bytes NOT read (0: all of them). */
static inline int32_t semihosting_read(int32_t handle, void *buffer, uint32_t length) {
  const uint32_t args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buffer, length};
  return semihosting_call(SYS_READ, args);
}

/* Bytes NOT written (0: all of them). */
static inline int32_t semihosting_write(int32_t handle, const void *buffer, uint32_t length) {
  const uint32_t args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buffer, length};
  return semihosting_call(SYS_WRITE, args);
}

__attribute__((noreturn)) static inline void semihosting_exit(uint32_t status) {
  const uint32_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, status};
  semihosting_call(SYS_EXIT_EXTENDED, args);
  for (;;) {
  }
}

#endif
