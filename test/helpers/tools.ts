// Tests that need a system tool (the Arm cross-compiler, QEMU, Chromium) skip when it is absent, and the run ends
// with one line naming what was missing (test/helpers/missing-tools-reporter.ts). FLEXQ_REQUIRE_TOOLS=1 (CI) turns
// the skip off, so a missing tool fails the tests that need it instead of hiding them.
import { hasSystemTool, type SystemToolName } from '../../src/system-tools.js';

export const REQUIRE_TOOLS = process.env.FLEXQ_REQUIRE_TOOLS === '1';

/** True when tests needing `tools` must be skipped: one is absent and the run does not require them. */
export function lacksTools(...tools: SystemToolName[]): boolean {
  return !REQUIRE_TOOLS && tools.some((t) => !hasSystemTool(t));
}

