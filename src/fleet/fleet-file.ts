/**
 * Reads a fleet file (YAML, or JSON, which YAML reads too) into each loop's whole config. The file
 * is judged whole before anything is applied: every problem is one line naming the file, the line,
 * the loop and the key, in the words every other entry point uses (the one config schema's).
 *
 * A loop's config is `defaults`, then the loop's own keys, then the file's `fleet`: parsed by the
 * loop schema itself, so a rule across keys (live needs confirm_live) sees what the loop will run with.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { CONFIG_KEYS, describeIssues, loopConfigSchema, type LoopConfig } from '../shared/config';
import type { Issue, Path } from '../shared/schema';
import { fleetFileSchema } from './fleet-schema';

export interface FleetLoop {
  id: string;
  config: LoopConfig;
}

export interface FleetFile {
  /** Where it was read from, for messages: a path, or `-` (stdin). */
  source: string;
  fleet: string;
  loops: FleetLoop[];
}

/** A fleet file that cannot be applied; `problems` holds one line each, the message all of them. */
export class FleetFileError extends Error {
  override readonly name = 'FleetFileError';
  constructor(
    source: string,
    readonly problems: string[],
  ) {
    super(`invalid fleet file ${source}: nothing was applied\n${problems.map((line) => `  ${line}`).join('\n')}`);
  }
}

/** Parses and checks a fleet file's text; throws a {@link FleetFileError} listing every problem. */
export function parseFleetFile(text: string, source: string): FleetFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const where = (line: number | null) => (line === null ? source : `${source}:${line}`);
  if (doc.errors.length > 0) {
    throw new FleetFileError(
      source,
      doc.errors.map((err) => `${where(lineCounter.linePos(err.pos[0]).line)}: not valid YAML or JSON: ${firstLine(err.message)}`),
    );
  }
  const locate = (path: Path) => lineOf(doc, lineCounter, path);
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = fleetFileSchema.safeParse(value);
  if (!parsed.success) {
    // An unknown key is pointed at where it is written, not at the object holding it.
    const at = (issue: Issue) => locate(issue.unknownKeys?.[0] === undefined ? issue.path : [...issue.path, issue.unknownKeys[0]]);
    const problems = parsed.issues.map((issue) => ({ line: at(issue), text: describeFleetIssue(value, issue) }));
    throw new FleetFileError(source, byLine(problems, where));
  }

  const { fleet, defaults = {}, loops } = parsed.data;
  const problems: { line: number | null; text: string }[] = [];
  const result: FleetLoop[] = [];
  loops.forEach(({ id, ...own }, index) => {
    // A key the file leaves out is absent from both (never undefined), so the merge keeps the other's value.
    const merged = loopConfigSchema.safeParse({ ...defaults, ...own, fleet });
    if (merged.success) {
      result.push({ id, config: merged.data });
      return;
    }
    for (const issue of merged.issues) {
      // Blame the key where the loop sets it, else where `defaults` does, else the loop itself.
      const key = issue.path[0];
      const at =
        key !== undefined && key in own
          ? ['loops', index, key]
          : key !== undefined && key in defaults
            ? ['defaults', key]
            : ['loops', index];
      problems.push({ line: locate(at), text: `loop ${id}: ${describeIssues([issue])}` });
    }
  });
  if (problems.length > 0) throw new FleetFileError(source, byLine(problems, where));
  return { source, fleet, loops: result };
}

/** A schema issue of the file's structure, named by loop ID where it lies within a loop. */
function describeFleetIssue(value: unknown, issue: Issue): string {
  const [top, index, ...rest] = issue.path;
  if (top === 'loops' && typeof index === 'number') {
    const id = loopIdAt(value, index);
    const who = id ? `loop ${id}` : `loops[${index}]`;
    if (issue.unknownKeys) return `${who}: ${unknownKeysText(issue.unknownKeys, ['id', ...configKeys()])}`;
    return `${who}: ${rest.length > 0 ? rest.join('.') : 'loop'}: ${issue.message}`;
  }
  if (top === 'defaults' && issue.unknownKeys) return `defaults: ${unknownKeysText(issue.unknownKeys, configKeys())}`;
  if (top === 'defaults' && index !== undefined) return `defaults: ${[index, ...rest].join('.')}: ${issue.message}`;
  if (issue.unknownKeys) return unknownKeysText(issue.unknownKeys, ['fleet', 'defaults', 'loops']);
  return `${issue.path.length > 0 ? issue.path.join('.') : 'fleet file'}: ${issue.message}`;
}

/** The config keys a fleet file's loop or defaults may set: all but `fleet`, which the file names once. */
function configKeys(): string[] {
  return CONFIG_KEYS.filter((key) => key !== 'fleet');
}

function unknownKeysText(keys: string[], known: string[]): string {
  const fleetHint = keys.includes('fleet') ? " (a loop's fleet is the file's own fleet key)" : '';
  return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}${fleetHint} (known keys: ${known.join(', ')})`;
}

function loopIdAt(value: unknown, index: number): string | null {
  const loops = (value as { loops?: unknown } | null)?.loops;
  const id = Array.isArray(loops) ? (loops[index] as { id?: unknown } | undefined)?.id : undefined;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** The line of the key (or item) at `path`, or of the nearest enclosing one the document has; null when none. */
function lineOf(doc: Document, lineCounter: LineCounter, path: Path): number | null {
  let node: unknown = doc.contents;
  let offset: number | null = rangeStart(node);
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === step);
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      node = node.items[step];
      offset = rangeStart(node) ?? offset;
    } else break;
  }
  return offset === null ? null : lineCounter.linePos(offset).line;
}

function rangeStart(node: unknown): number | null {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? range[0] : null;
}

/** Problems in the order of the file, each as `file:line: text`. */
function byLine(problems: { line: number | null; text: string }[], where: (line: number | null) => string): string[] {
  return [...problems].sort((p, q) => (p.line ?? 0) - (q.line ?? 0)).map(({ line, text }) => `${where(line)}: ${text}`);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
