// The names the API and the CLI accept, all from one place: the built-in executors (float, runtime) and whatever
// each registered Target (targets/index.ts) exports, executes and compiles.
import { TARGETS } from '../../targets/index.js';
import { fail } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import type { Compiler, Exporter, ExecutorFactory, ForeignExecutorFactory, Target } from '../target.js';

/** The executors flexq itself provides, before any target's. */
export const BUILT_IN_EXECUTORS = ['float', 'runtime'] as const;

function collect<T>(pick: (t: Target) => Readonly<Record<string, T>> | undefined): Map<string, T> {
  return new Map(TARGETS.flatMap((t) => Object.entries(pick(t) ?? {})));
}

const EXECUTORS = collect((t) => t.executors);
const FOREIGN_EXECUTORS = new Map(
  (['tflite', 'onnx'] as const).map((format) => [format, collect((t) => t.foreignExecutors?.[format])] as const),
);
const foreignNames = (): string[] => [...FOREIGN_EXECUTORS.values()].flatMap((m) => [...m.keys()]);
const EXPORTERS = collect((t) => t.exporters);
const COMPILERS = collect((t) => t.compilers);

/** Every executor name: float, runtime, then each target's. */
export const executorNames = (): string[] => [...new Set([...BUILT_IN_EXECUTORS, ...EXECUTORS.keys(), ...foreignNames()])];
export const exportFormats = (): string[] => [...EXPORTERS.keys()];
export const compileTargets = (): string[] => [...COMPILERS.keys()];

function lookup<T>(table: Map<string, T>, kind: string, name: string, all: readonly string[]): T {
  const found = table.get(name);
  if (found === undefined) fail('BAD_ARGUMENT', `${kind} '${name}': expected one of ${all.join(', ')}`);
  return found;
}

/** A target's executor factory by name (float and runtime are the API's own: see executors.ts). */
export const targetExecutor = (name: string): ExecutorFactory => lookup(EXECUTORS, 'executor', name, executorNames());
/** The executor that runs a foreign artefact's own file of this format under this name, if a target has one. */
export const foreignExecutor = (format: 'tflite' | 'onnx', name: string): ForeignExecutorFactory | undefined => FOREIGN_EXECUTORS.get(format)!.get(name);
export const exporterFor = (format: string): Exporter => lookup(EXPORTERS, 'format', format, exportFormats());
export const compilerFor = (target: string): Compiler => lookup(COMPILERS, 'target', target, compileTargets());

/** The compile target whose artefact the executor `name` runs (qemu-m4 → cortex-m4), if any. */
export const compileTargetOf = (executor: string): string | undefined => [...COMPILERS].find(([, c]) => c.executor === executor)?.[0];

/** What each target offers, for `flexq targets`. */
export function describeTargets(): { name: string; description: string; formats: string[]; executors: string[]; compile: string[] }[] {
  return TARGETS.map((t) => ({
    name: t.name,
    description: t.description,
    formats: Object.keys(t.exporters ?? {}),
    executors: [...new Set([...Object.keys(t.executors ?? {}), ...Object.values(t.foreignExecutors ?? {}).flatMap((e) => Object.keys(e))])],
    compile: Object.keys(t.compilers ?? {}),
  }));
}

/** Names `--target` takes: every compile target (cortex-m4, …) and every target (tflite, onnx, a100, cortex-m). */
export const deploymentTargets = (): string[] => [...compileTargets(), ...TARGETS.map((t) => t.name)];

function deploymentTarget(name: string): Target {
  const found = TARGETS.find((t) => t.name === name || Object.hasOwn(t.compilers ?? {}, name));
  if (found === undefined) fail('BAD_ARGUMENT', `target '${name}': expected one of ${deploymentTargets().join(', ')}`);
  return found;
}

/** Whether the target deploys every node of the graph (checkDeployable's question, without the error). */
export function deploysEveryNode(graph: Graph, target: string): boolean {
  const chosen = deploymentTarget(target);
  return graph.nodes.every((node) => chosen.cannotDeploy?.(node, graph) === undefined);
}

/**
 * Fails, naming every node the target cannot deploy (op, node, why, which targets can), when there is any: run
 * before calibration, so an undeployable model costs no work and leaves no output behind.
 */
export function checkDeployable(graph: Graph, target: string): void {
  const chosen = deploymentTarget(target);
  const problems = graph.nodes.flatMap((node) => {
    const why = chosen.cannotDeploy?.(node, graph);
    if (why === undefined) return [];
    const others = TARGETS.filter((t) => t !== chosen && t.cannotDeploy?.(node, graph) === undefined).map((t) => t.name);
    return [`  node '${node.name}' (${node.op}): ${why}; deployable on: ${others.length > 0 ? others.join(', ') : 'no flexq target yet'}`];
  });
  if (problems.length === 0) return;
  fail(
    'UNSUPPORTED_OP',
    `${graph.source}: ${problems.length} node(s) cannot be deployed on ${target}; nothing was computed or written:\n${problems.join('\n')}\n` +
      'Pick a target that can run every node (see the lists above), or rewrite those nodes in the source model.',
  );
}
