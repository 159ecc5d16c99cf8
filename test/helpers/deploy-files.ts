/**
 * What the tests of the deployment files (test/server/dockerfile, entrypoint, image,
 * alertmanager-entrypoint, compose; test/unit/k8s, health-paths) share: the project's files read
 * from its root, commands run to their end there, processes followed line by line, durations,
 * addresses and YAML read strictly.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_HEALTH_ADDRESS, DEFAULT_METRICS_ADDRESS } from '../../src/observability/runtime';
import { parseLoopConfig } from '../../src/shared/config';
import { projectRoot } from '../../src/toolchain/binaries';
import { runToEnd, type Ran } from './processes';

export const root = projectRoot();
export const read = (path: string): string => readFileSync(join(root, path), 'utf8');
export const packageJson = JSON.parse(read('package.json')) as { version: string; dependencies: Record<string, string> };
/** Bounds each external step; a hung one fails its test instead of holding up the run. */
const STEP_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Small helpers: processes, durations, addresses, YAML.

/** Runs a command to its end in the project folder, within `timeoutMs`; never throws for a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  return runToEnd(cmd, args, {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS,
  });
}

/** A long-running process followed line by line (the real entrypoint runs). */
export interface FollowedEntrypoint {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, what: string, timeoutMs?: number): Promise<void>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

export const followed = new Set<ChildProcess>();

export function follow(cmd: string, args: string[], env: NodeJS.ProcessEnv): FollowedEntrypoint {
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  followed.add(child);
  let text = '';
  const onData = (chunk: Buffer) => (text += chunk.toString());
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    exited,
    output: () => text,
    waitFor(pattern, what, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        // A deadline, not a sleep: it only bounds how long a broken process can keep the test waiting.
        const deadline = AbortSignal.timeout(timeoutMs);
        const done = () => {
          deadline.removeEventListener('abort', onDeadline);
          child.stdout?.off('data', check);
          child.stderr?.off('data', check);
          child.off('exit', onExit);
        };
        const fail = (why: string) => {
          done();
          reject(new Error(`${why} waiting for ${what}\noutput: ${text}`));
        };
        const check = () => {
          if (!pattern.test(text)) return;
          done();
          resolve();
        };
        const onExit = () => fail('the process exited');
        const onDeadline = () => fail(`${timeoutMs} ms passed`);
        deadline.addEventListener('abort', onDeadline);
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        child.on('exit', onExit);
        check();
      });
    },
  };
}

/** Compose's `150s`, `2m30s`, `1h`; Docker's `--start-period=150s`; the CLI's `120s`. */
export function seconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  assert.ok(parts.length > 0 && parts.map((p) => p[0]).join('') === text, `"${text}" is not a duration`);
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * (unit[p[2] ?? 's'] ?? 1), 0);
}

export function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

export const HEALTH_PORT = hostPort(DEFAULT_HEALTH_ADDRESS).port;
export const METRICS_PORT = hostPort(DEFAULT_METRICS_ADDRESS).port;

export type Obj = Record<string, unknown>;

export function obj(value: unknown, what: string): Obj {
  assert.ok(
    value !== null && typeof value === 'object' && !Array.isArray(value),
    `${what}: expected a mapping, got ${JSON.stringify(value)}`,
  );
  return value as Obj;
}

export function arr(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what}: expected a list, got ${JSON.stringify(value)}`);
  return value as unknown[];
}

export function str(value: unknown, what: string): string {
  assert.ok(
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean',
    `${what}: expected a scalar, got ${JSON.stringify(value)}`,
  );
  return String(value);
}

export function yamlFile(path: string): Obj {
  return obj(parseYaml(read(path), { merge: true }), path);
}

export function yamlDocuments(path: string): Obj[] {
  return read(path)
    .split(/^---$/m)
    .filter((doc) => doc.trim() !== '')
    .map((doc, i) => obj(parseYaml(doc, { merge: true }), `${path} document ${i + 1}`));
}

/** Compose's `${VAR:-default}` / `${VAR-default}` / `${VAR}` with nothing set: the file's own defaults. */
export function composeDefault(text: string): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
}

/** The env var names the code reads (src/ and the entrypoint), plus those @temporalio/envconfig reads for it. */
export function envNamesTheCodeReads(): Set<string> {
  const names = new Set(['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE', 'NODE_ENV']);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  for (const file of walk(join(root, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)|\[['"]([A-Z][A-Z0-9_]+)['"]\])/g))
      names.add(m[1] ?? m[2] ?? '');
  }
  for (const m of read('deploy/entrypoint.sh').matchAll(/\$\{([A-Z][A-Z0-9_]+)/g)) names.add(m[1] ?? '');
  // `start` reads each config key from MTF_<KEY> (mtf_url → MTF_URL), named after the schema.
  for (const key of Object.keys(parseLoopConfig({})))
    names.add(key.toUpperCase().startsWith('MTF_') ? key.toUpperCase() : `MTF_${key.toUpperCase()}`);
  return names;
}
