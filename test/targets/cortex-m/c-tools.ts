// The flags the library tests build with clang (make, cmake and clang themselves are system tools:
// src/system-tools.ts, skipped through test/helpers/tools.ts's lacksTools).

/** The -mcpu/-mfpu flags clang takes for a core (arm-none-eabi-gcc's flags, with the target and newlib's headers). */
export const CLANG_ARM = ['--target=arm-none-eabi', '--sysroot=/usr/lib/arm-none-eabi', '-mthumb'];
