// After the run: one line that names the system tools whose tests were skipped and the command that installs them.
import type { Reporter, TestModule } from 'vitest/node';
import { installCommand } from '../../src/install-tools.js';
import { hasSystemTool, SYSTEM_TOOLS } from '../../src/system-tools.js';

export default class MissingToolsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const missing = SYSTEM_TOOLS.filter((t) => !t.optional && !hasSystemTool(t.name));
    if (missing.length === 0 || process.env.FLEXQ_REQUIRE_TOOLS === '1') return;
    let skipped = 0;
    for (const m of modules) for (const t of m.children.allTests()) if (t.result().state === 'skipped') skipped++;
    if (skipped === 0) return;
    process.stdout.write(
      `\nflexq: ${skipped} tests skipped; missing system tools: ${missing.map((t) => t.title).join(', ')}. Install them with \`npm run setup\` (as root or with passwordless sudo), or: ${installCommand(missing, { sudo: true })}\n`,
    );
  }
}
