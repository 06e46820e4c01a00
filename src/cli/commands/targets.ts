import type { Command } from 'commander';
import { describeTargets } from '../../api/registry.js';

export function registerTargets(program: Command): void {
  program
    .command('targets')
    .description('the deployment targets: what each exports (--format), runs (--executor) and compiles (--target)')
    .option('--json', 'one JSON object on stdout')
    .action((o: { json?: boolean }) => {
      const targets = describeTargets();
      if (o.json) return void process.stdout.write(JSON.stringify({ targets }) + '\n');
      const lines = targets.flatMap((t) => [
        `${t.name}: ${t.description}`,
        ...(t.formats.length ? [`  export --format ${t.formats.join(' | ')}`] : []),
        ...(t.executors.length ? [`  run/eval/validate --executor ${t.executors.join(' | ')}`] : []),
        ...(t.compile.length ? [`  compile --target ${t.compile.join(' | ')}`] : []),
      ]);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
