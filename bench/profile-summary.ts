/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]`: where a V8 CPU profile (node --cpu-prof,
 * e.g. from `BENCH_CPU_PROF=<dir> npm run bench -- --quick`) spent its time — self time by package
 * (or by our own file) and the top functions by self time, as shares of the samples that were not idle.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** node_modules/<package> (scoped too), our src/ file, node: internals, or V8's own (GC, program). */
function ownerOf(url: string, functionName: string): string {
  if (url === '') return functionName === '' ? '(native)' : `(${functionName})`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const own = /\/(src\/.+)$/.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return 'node: internals';
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByNode = new Map<number, number>();
  profile.samples.forEach((id, i) => selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  /** The nearest package or file of ours on the stack: node's HTTP, streams and timers are charged to their caller. */
  const callerOf = (id: number): string | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      const owner = ownerOf(url, functionName);
      if (url !== '' && !owner.startsWith('node:') && owner !== 'tsx') return owner;
    }
    return undefined;
  };
  const byCaller = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of selfByNode) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += micros;
    const owner = ownerOf(url, functionName);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros);
    const caller = functionName.startsWith('(') ? owner : (callerOf(id) ?? 'node: internals (event loop, no caller)');
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + micros);
    const key = `${functionName || '(anonymous)'}  ${owner}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  }
  const lines = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, micros]) =>
          `${((micros * 100) / busy).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`,
      );
  return [
    `busy (not idle): ${(busy / 1e6).toFixed(1)} s`,
    '',
    'self time by package / file:',
    ...lines(byOwner),
    '',
    'self time charged to the nearest package or file of ours on the stack:',
    ...lines(byCaller),
    '',
    'self time by function:',
    ...lines(byFunction),
  ].join('\n');
}

if (process.argv[2]) console.log(summariseProfile(process.argv[2], Number(process.argv[3] ?? 25)));
