import { Command, CommanderError } from 'commander';
import { FlexqError, fromFileSystemError } from '../errors.js';
import { registerDemo } from './commands/demo.js';
import { registerEval } from './commands/eval.js';
import { registerExport } from './commands/export.js';
import { registerInspect } from './commands/inspect.js';
import { registerQuantize } from './commands/quantize.js';
import { registerValidate } from './commands/validate.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerCompile } from './commands/compile.js';
import { registerBackends } from './commands/backends.js';
import { registerSetup } from './commands/setup.js';
import { registerTargets } from './commands/targets.js';

const EXIT_USER_ERROR = 1;
const EXIT_BAD_ARGUMENTS = 2;

function buildProgram(): Command {
  const program = new Command('flexq')
    .description('FlexRound post-training quantization and integer deployment for edge accelerators')
    .option('--verbose', 'print stack traces of errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerDemo(program);
  registerInspect(program);
  registerQuantize(program);
  registerEval(program);
  registerValidate(program);
  registerExport(program);
  registerRun(program);
  registerServe(program);
  registerCompile(program);
  registerBackends(program);
  registerTargets(program);
  registerSetup(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI and returns the exit code: 0 success, 1 user error (a FlexqError), 2 bad arguments. */
export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (thrown) {
    const e = fromFileSystemError(thrown);
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_BAD_ARGUMENTS;
    if (e instanceof FlexqError) {
      process.stderr.write(`flexq: error [${e.code}]: ${e.message}\n${verbose ? `${e.stack}\n` : ''}`);
      return e.code === 'BAD_ARGUMENT' ? EXIT_BAD_ARGUMENTS : EXIT_USER_ERROR;
    }
    const err = e as Error;
    process.stderr.write(`flexq: internal error: ${err.message}\n${verbose ? `${err.stack}\n` : 'Run again with --verbose for the stack trace, and report it.\n'}`);
    return EXIT_USER_ERROR;
  }
}
