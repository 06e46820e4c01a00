// The system tools flexq runs, how to tell whether each is present, and the Debian packages that bring it. One
// table, read by `flexq setup` (which installs what is missing), by the demo (which says what a missing tool
// costs) and by the tests (which skip what needs an absent tool, unless FLEXQ_REQUIRE_TOOLS=1).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute } from 'node:path';

export type SystemToolName = 'arm-gcc' | 'qemu-arm' | 'make' | 'cmake' | 'clang' | 'chromium' | 'vulkan' | 'nvcc';

export interface SystemTool {
  readonly name: SystemToolName;
  /** What a person calls it, in messages. */
  readonly title: string;
  /** What in flexq needs it. */
  readonly neededFor: string;
  /** Debian packages that install it; empty when apt cannot (nvcc comes with NVIDIA's CUDA toolkit). */
  readonly packages: readonly string[];
  /** Installed from bookworm-backports on Debian 12 (Dawn refuses Mesa before 23). */
  readonly backports?: boolean;
  /** Optional tools are reported, never installed and never required. */
  readonly optional?: boolean;
  /** Present and usable: a cheap check (a program on the PATH, a file). */
  readonly present: () => boolean;
}

/** A program on the PATH (or an absolute path) that exists and runs. */
function runs(command: string, args: readonly string[] = ['--version']): boolean {
  if (isAbsolute(command) && !existsSync(command)) return false;
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 });
  return r.error === undefined && r.status === 0;
}

/** newlib is a separate package: gcc alone links nothing for the Cortex-M harness. */
function armGccWithNewlib(): boolean {
  const r = spawnSync('arm-none-eabi-gcc', ['-print-file-name=libc.a'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 && isAbsolute(r.stdout.trim());
}

/** A Vulkan loader and Mesa's software driver (lavapipe), so the WebGPU backend runs without a GPU. */
function vulkanPresent(): boolean {
  const icd = '/usr/share/vulkan/icd.d';
  const hasLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some(existsSync);
  return hasLoader && existsSync(icd) && readdirSync(icd).some((f) => f.startsWith('lvp_icd'));
}

/** Where the tests and the page runner find Chromium (Debian's package). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const SYSTEM_TOOLS: readonly SystemTool[] = [
  {
    name: 'arm-gcc',
    title: 'arm-none-eabi-gcc with newlib',
    neededFor: 'compile --target cortex-m*, export --format c builds, the QEMU proofs',
    packages: ['gcc-arm-none-eabi', 'libnewlib-arm-none-eabi'],
    present: armGccWithNewlib,
  },
  {
    name: 'qemu-arm',
    title: 'qemu-system-arm',
    neededFor: 'running Cortex-M firmware (compile, --executor qemu-m4|m7|m55)',
    packages: ['qemu-system-arm'],
    present: () => runs('qemu-system-arm'),
  },
  {
    name: 'make',
    title: 'GNU make',
    neededFor: 'the generated C library\'s Makefile and its example project',
    packages: ['make'],
    present: () => runs('make'),
  },
  {
    name: 'cmake',
    title: 'CMake',
    neededFor: 'the generated C library\'s CMakeLists.txt (tests)',
    packages: ['cmake'],
    present: () => runs('cmake'),
  },
  {
    name: 'clang',
    title: 'clang',
    neededFor: 'building the generated C library with a second compiler, warning-clean under -Weverything (tests)',
    packages: ['clang'],
    present: () => runs('clang'),
  },
  {
    name: 'chromium',
    title: 'Chromium',
    neededFor: 'the onnxruntime-web page in a real browser (serve tests, the web benchmark)',
    packages: ['chromium', 'fonts-liberation'],
    present: () => runs(CHROMIUM_PATH, ['--headless', '--no-sandbox', '--version']),
  },
  {
    name: 'vulkan',
    title: 'Vulkan with Mesa\'s software driver',
    neededFor: '--backend webgpu without a GPU (tests)',
    packages: ['mesa-vulkan-drivers', 'libvulkan1'],
    backports: true,
    present: vulkanPresent,
  },
  {
    name: 'nvcc',
    title: 'nvcc (CUDA toolkit)',
    neededFor: 'building the A100 IMMA kernel (--executor a100 needs an NVIDIA GPU as well)',
    packages: [],
    optional: true,
    present: () => runs('nvcc'),
  },
];

export const systemTool = (name: SystemToolName): SystemTool => SYSTEM_TOOLS.find((t) => t.name === name)!;

const presence = new Map<SystemToolName, boolean>();

/** Whether a tool is present, probed once per process. */
export function hasSystemTool(name: SystemToolName): boolean {
  if (!presence.has(name)) presence.set(name, systemTool(name).present());
  return presence.get(name)!;
}
