// Finds the GPU a WebGPU backend would run on and, when there is none, what the host lacks. Dawn is asked in a child
// process: its adapter search prints the reason it turns an adapter down only to stderr (which a child's parent can
// read), and a driver that crashes on start takes only the child with it.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface WebGpuAdapter {
  /** Dawn's description, e.g. 'NVIDIA A100-SXM4-80GB' or 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)'. */
  readonly description: string;
  readonly vendor: string;
  readonly architecture: string;
  /** A CPU rasterizer (llvmpipe, SwiftShader, WARP): exact WebGPU, but no faster than the CPU backend. */
  readonly software: boolean;
}

export interface AdapterProbe {
  readonly adapter?: WebGpuAdapter;
  /** Dawn's reasons for the adapters it turned down, as it printed them. */
  readonly rejections: readonly string[];
  /** Why Dawn could not be asked at all (the optional 'webgpu' package is missing, the child failed). */
  readonly unavailable?: string;
}

/** What the host has of the Vulkan stack WebGPU needs on Linux. */
export interface VulkanHost {
  /** Where libvulkan.so.1 (the loader) was found, if anywhere. */
  readonly loader?: string;
  /** The installable client drivers' manifests the loader would read. */
  readonly drivers: readonly string[];
  /** Manifests VK_DRIVER_FILES / VK_ICD_FILENAMES name that do not exist. */
  readonly missing?: readonly string[];
  /** The NVIDIA kernel driver is loaded (/proc/driver/nvidia). */
  readonly nvidiaKernelDriver: boolean;
}

const PROBE_TIMEOUT_MS = 60_000;

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|microsoft basic render/i;

/** The child's program: one adapter request, printed as one JSON line. */
const probeProgram = (webgpuUrl: string) => `
const { create } = await import(${JSON.stringify(webgpuUrl)});
const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const info = a && a.info;
process.stdout.write(JSON.stringify(a ? { vendor: info.vendor, architecture: info.architecture, description: info.description || info.device, fallback: Boolean(a.isFallbackAdapter) } : null) + '\\n');
process.exit(0);`;

/** Dawn's stderr, less the lines that say nothing about adapters. */
function rejectionLines(stderr: string): string[] {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at ') && !l.includes('XDG_RUNTIME_DIR') && !/artificially reduced/.test(l));
  return [...new Set(lines)];
}

let cached: Promise<AdapterProbe> | undefined;

/** Asks Dawn (the optional 'webgpu' package) for its high-performance adapter; once per process. */
export function probeWebGpuAdapter(): Promise<AdapterProbe> {
  cached ??= runProbe();
  return cached;
}

function runProbe(): Promise<AdapterProbe> {
  let webgpu: string;
  try {
    webgpu = createRequire(import.meta.url).resolve('webgpu');
  } catch {
    return Promise.resolve({ rejections: [], unavailable: "the optional package 'webgpu' (Dawn for Node) is not installed: run 'npm install webgpu@0.6.2' next to flexq" });
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', probeProgram(pathToFileURL(webgpu).href)],
      { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const rejections = rejectionLines(stderr);
        const line = stdout.trim().split('\n').pop() ?? '';
        if (error || !line) {
          resolve({ rejections, unavailable: `the adapter probe (Dawn in a child process) failed: ${error?.message.split('\n')[0] ?? 'it printed nothing'}` });
          return;
        }
        const a = JSON.parse(line) as { vendor: string; architecture: string; description: string; fallback: boolean } | null;
        if (!a) return resolve({ rejections });
        const software = a.fallback || a.architecture === 'software' || SOFTWARE_ADAPTER.test(a.description);
        resolve({ adapter: { description: a.description, vendor: a.vendor, architecture: a.architecture, software }, rejections });
      },
    );
  });
}

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];

/** Looks for the Vulkan loader and drivers where the loader itself looks (Linux). */
export function inspectVulkanHost(env: NodeJS.ProcessEnv = process.env): VulkanHost {
  const multiarch = MULTIARCH[process.arch];
  const libDirs = [
    ...(env.LD_LIBRARY_PATH?.split(delimiter).filter(Boolean) ?? []),
    ...(multiarch ? [`/usr/lib/${multiarch}`, `/lib/${multiarch}`] : []),
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  const loader = libDirs.map((d) => join(d, 'libvulkan.so.1')).find((f) => existsSync(f));
  const nvidiaKernelDriver = existsSync('/proc/driver/nvidia/version');
  const listed = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES)?.split(delimiter).filter(Boolean);
  if (listed) return { loader, drivers: listed.filter((f) => existsSync(f)), missing: listed.filter((f) => !existsSync(f)), nvidiaKernelDriver };
  const drivers = ICD_DIRS.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)) : []));
  return { loader, drivers, nvidiaKernelDriver };
}

/** Why `--backend <kind>` cannot run here, and what to install: a sentence per missing piece. */
export function noAdapterMessage(kind: string, probe: AdapterProbe, host: VulkanHost | undefined): string {
  const parts = [`--backend ${kind}: no WebGPU adapter was found`];
  if (probe.unavailable) parts.push(probe.unavailable);
  if (host) {
    parts.push(host.loader ? `the Vulkan loader is present (${host.loader})` : "the Vulkan loader libvulkan.so.1 is missing (Debian/Ubuntu: 'apt-get install libvulkan1')");
    const nvidia = host.drivers.filter((d) => /nvidia/i.test(d));
    if (host.missing?.length) parts.push(`VK_DRIVER_FILES / VK_ICD_FILENAMES name driver manifests that do not exist: ${host.missing.join(', ')}`);
    else if (host.drivers.length === 0) parts.push('no Vulkan driver (ICD manifest) is installed in ' + ICD_DIRS.join(', '));
    if (host.drivers.length > 0) parts.push(`Vulkan drivers found: ${host.drivers.map((d) => d.split('/').pop()).join(', ')}`);
    if (nvidia.length === 0)
      parts.push(
        host.nvidiaKernelDriver
          ? "the NVIDIA kernel driver is loaded but its Vulkan driver (nvidia_icd.json, from the driver's Vulkan/GL userspace package, e.g. Debian 'nvidia-vulkan-icd') is not installed"
          : 'no NVIDIA driver is loaded (no /proc/driver/nvidia): this machine shows no NVIDIA GPU',
      );
  }
  if (probe.rejections.length > 0) parts.push(`Dawn said: ${probe.rejections.join(' / ')}`);
  parts.push('use --backend auto or ort-cpu to reconstruct on the CPU');
  return parts.join('; ');
}
