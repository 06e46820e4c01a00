import type { Command } from 'commander';
import { BACKEND_KINDS, openBackend, type BackendKind } from '../../backend/select.js';
import { FlexqError } from '../../errors.js';

/** Whether one reconstruction backend starts here, what it runs on, or why it cannot. */
export interface BackendStatus {
  readonly kind: BackendKind;
  readonly available: boolean;
  /** What it opened as ('ort-cpu', 'ort-webgpu', …) when available. */
  readonly name?: string;
  /** The GPU it runs on, when it runs on one. */
  readonly device?: string;
  /** Why it is unavailable: the same message `quantize --backend KIND` would stop with. */
  readonly reason?: string;
}

/** Opens every reconstruction backend once, 'auto' last, and closes it again. */
export async function backendStatuses(): Promise<BackendStatus[]> {
  const statuses: BackendStatus[] = [];
  for (const kind of [...BACKEND_KINDS.filter((k) => k !== 'auto'), 'auto' as const]) {
    try {
      const b = await openBackend(kind);
      statuses.push({ kind, available: true, name: b.name, ...(b.device ? { device: b.device } : {}) });
      await b.dispose();
    } catch (e) {
      if (!(e instanceof FlexqError)) throw e;
      statuses.push({ kind, available: false, reason: e.message });
    }
  }
  return statuses;
}

const describe = (s: BackendStatus): string =>
  !s.available ? `unavailable: ${s.reason}` : `${s.kind === 'auto' ? `→ ${s.name}` : 'available'}${s.device ? ` on ${s.device}` : ''}`;

/** Why 'auto' stayed on the CPU, read from the webgpu row. */
function whyNotGpu(statuses: readonly BackendStatus[]): string {
  const gpu = statuses.find((s) => s.kind === 'webgpu');
  return gpu?.available ? " (webgpu's adapter is a software rasterizer)" : ' (no WebGPU adapter: see the webgpu row)';
}

export function registerBackends(program: Command): void {
  program
    .command('backends')
    .description("which reconstruction backends (quantize --backend) start on this machine, on which GPU, and what 'auto' picks")
    .option('--json', 'one JSON array on stdout')
    .action(async (opts: { json?: boolean }) => {
      const statuses = await backendStatuses();
      if (opts.json) process.stdout.write(JSON.stringify(statuses) + '\n');
      else {
        const lines = statuses.map((s) => `${s.kind.padEnd(12)} ${describe(s)}${s.kind === 'auto' && s.name === 'ort-cpu' ? whyNotGpu(statuses) : ''}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
    });
}
