/**
 * The deployment files (Dockerfile, .dockerignore, deploy/entrypoint.sh, docker-compose.yml,
 * deploy/k8s/deployment.yaml, deploy/prometheus, deploy/alertmanager, deploy/grafana, deploy/temporal) against the
 * code's own defaults and the cluster tests' server pin and setup scripts, linted with the pinned hadolint and shellcheck, and run outside Docker wherever that is feasible:
 * the Dockerfile's RUN steps in a temporary copy of its file sets, its HEALTHCHECK command, and the
 * entrypoint with a stub CLI and with the real one against a real `temporal server start-dev`, the
 * Alertmanager entrypoint's configs through Debian's amtool and Alertmanager.
 * What needs a Docker engine (the image build itself, apt inside it, `docker compose config`) is
 * skipped with the reason.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse as parseYaml } from 'yaml';
import { ExitCode } from '../../src/cli/output';
import { DEFAULT_ADDRESS } from '../../src/client/connection';
import { DEFAULT_HEALTH_ADDRESS, DEFAULT_METRICS_ADDRESS } from '../../src/observability/runtime';
import { parseLoopConfig } from '../../src/shared/config';
import { DEFAULT_TASK_QUEUE, DEFAULT_WORKFLOW_ID } from '../../src/shared/messages';
import { searchAttributeSpecs } from '../../src/shared/search-attributes';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { hadolintPath, projectRoot, shellcheckPath } from '../../src/toolchain/binaries';
import { startHealthServer } from '../../src/worker/health-server';
import { DEFAULT_IDENTITY } from '../../src/worker/main';
import { DEFAULT_SHUTDOWN_GRACE_MS, PREBUILT_BUNDLE, PREBUILT_ENCODED_FAILURES_BUNDLE } from '../../src/worker/worker';
import { SETUP_SCRIPTS, serverPin } from '../cluster/setup-scripts';
import { freePort } from '../../harness/processes';
import { describeRun, runToEnd, waitFor, type Ran } from '../helpers/processes';
import { createDevServerEnv, uniqueId } from '../helpers/temporal';

const root = projectRoot();
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const packageJson = JSON.parse(read('package.json')) as { version: string; dependencies: Record<string, string> };
/** Bounds each external step; a hung one fails its test instead of holding up the run. */
const STEP_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Small helpers: processes, durations, addresses, YAML.

/** Runs a command to its end in the project folder, within `timeoutMs`; never throws for a non-zero exit. */
function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Ran> {
  return runToEnd(cmd, args, {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS,
  });
}

/** A long-running process followed line by line (the real entrypoint runs). */
interface Followed {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, what: string, timeoutMs?: number): Promise<void>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

const followed = new Set<ChildProcess>();

function follow(cmd: string, args: string[], env: NodeJS.ProcessEnv): Followed {
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
function seconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  assert.ok(parts.length > 0 && parts.map((p) => p[0]).join('') === text, `"${text}" is not a duration`);
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * (unit[p[2] ?? 's'] ?? 1), 0);
}

function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

const HEALTH_PORT = hostPort(DEFAULT_HEALTH_ADDRESS).port;
const METRICS_PORT = hostPort(DEFAULT_METRICS_ADDRESS).port;

type Obj = Record<string, unknown>;

function obj(value: unknown, what: string): Obj {
  assert.ok(
    value !== null && typeof value === 'object' && !Array.isArray(value),
    `${what}: expected a mapping, got ${JSON.stringify(value)}`,
  );
  return value as Obj;
}

function arr(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what}: expected a list, got ${JSON.stringify(value)}`);
  return value as unknown[];
}

function str(value: unknown, what: string): string {
  assert.ok(
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean',
    `${what}: expected a scalar, got ${JSON.stringify(value)}`,
  );
  return String(value);
}

function yamlFile(path: string): Obj {
  return obj(parseYaml(read(path), { merge: true }), path);
}

function yamlDocuments(path: string): Obj[] {
  return read(path)
    .split(/^---$/m)
    .filter((doc) => doc.trim() !== '')
    .map((doc, i) => obj(parseYaml(doc, { merge: true }), `${path} document ${i + 1}`));
}

/** Compose's `${VAR:-default}` / `${VAR-default}` / `${VAR}` with nothing set: the file's own defaults. */
function composeDefault(text: string): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
}

/** The env var names the code reads (src/ and the entrypoint), plus those @temporalio/envconfig reads for it. */
function envNamesTheCodeReads(): Set<string> {
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

// ---------------------------------------------------------------------------------------------
// The Dockerfile, parsed: stages, instructions, ENV, COPY, RUN, HEALTHCHECK.

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

function dockerInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] ?? '';
    if (first.trim() === '' || first.trimStart().startsWith('#')) continue;
    let joined = first;
    const start = i + 1;
    // Continuation lines; comment lines inside them are dropped, as Docker does.
    while (joined.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      joined = joined.trimEnd().slice(0, -1);
      i++;
      const next = lines[i] ?? '';
      if (next.trimStart().startsWith('#')) {
        joined += ' \\';
        continue;
      }
      joined += ` ${next.trim()}`;
    }
    const match = /^\s*(\w+)\s+([\s\S]*)$/.exec(joined);
    assert.ok(match?.[1] && match[2] !== undefined, `Dockerfile line ${start}: cannot read "${joined}"`);
    out.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: start });
  }
  return out;
}

function dockerStages(instructions: Instruction[]): { globalArgs: Record<string, string>; stages: Stage[] } {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(match?.[1], `FROM at line ${ins.line}`);
      const image = match[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a?: string, b?: string) => globalArgs[a ?? b ?? ''] ?? '');
      stages.push({ name: match[2] ?? String(stages.length), image, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [name, value] = ins.args.split('=');
        if (name) globalArgs[name] = value ?? '';
      }
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** `--flag=value` options in front of an instruction's arguments, and the rest. */
function flagsOf(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const match = /^--([\w-]+)=(\S+)\s+/.exec(rest);
    if (!match?.[1]) return { flags, rest };
    flags[match[1]] = match[2] ?? '';
    rest = rest.slice(match[0].length);
  }
}

function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const pair of ins.args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      assert.ok(eq > 0, `ENV at line ${ins.line}: use KEY=value, not "${pair}"`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

interface Copy {
  from?: string;
  chmod?: string;
  sources: string[];
  dest: string;
}

function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((ins) => {
      const { flags, rest } = flagsOf(ins.args);
      const parts = rest.split(/\s+/);
      const dest = parts.pop();
      assert.ok(dest && parts.length > 0, `COPY at line ${ins.line}`);
      return { from: flags.from, chmod: flags.chmod, sources: parts, dest };
    });
}

function runsOf(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((ins) => flagsOf(ins.args).rest);
}

function workdirOf(stage: Stage): string {
  const workdirs = stage.instructions.filter((i) => i.keyword === 'WORKDIR');
  assert.equal(workdirs.length, 1, `stage ${stage.name}: one WORKDIR`);
  return workdirs[0]?.args ?? '/';
}

const dockerfile = dockerStages(dockerInstructions(read('Dockerfile')));
const buildStage = dockerfile.stages.find((s) => s.name === 'build');
const runtimeStage = dockerfile.stages.at(-1);

function stages(): { build: Stage; runtime: Stage } {
  assert.ok(buildStage && runtimeStage && buildStage !== runtimeStage, 'a `build` stage and a final runtime stage');
  return { build: buildStage, runtime: runtimeStage };
}

function healthcheckOf(stage: Stage): { options: Record<string, string>; command: string[] } {
  const checks = stage.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
  assert.equal(checks.length, 1, 'one HEALTHCHECK');
  const { flags, rest } = flagsOf(checks[0]?.args ?? '');
  assert.match(rest, /^CMD\s+\[/, 'HEALTHCHECK CMD in exec form');
  const command = JSON.parse(rest.replace(/^CMD\s+/, '')) as string[];
  return { options: flags, command };
}

/** Where a path of the image (under WORKDIR) lands in an emulated copy at `dir`. */
function inCopy(dir: string, workdir: string, imagePath: string): string {
  const absolute = posix.resolve(workdir, imagePath);
  assert.ok(absolute === workdir || absolute.startsWith(`${workdir}/`), `${imagePath} is outside WORKDIR ${workdir}`);
  return join(dir, posix.relative(workdir, absolute));
}

/** COPY into an emulated stage: from the build context (the repository) or from an earlier stage's copy. */
function emulateCopy(copy: Copy, dir: string, workdir: string, stageDirs: Record<string, { dir: string; workdir: string }>): void {
  for (const source of copy.sources) {
    const from = copy.from ? stageDirs[copy.from] : undefined;
    if (copy.from) assert.ok(from, `COPY --from=${copy.from}: no such stage`);
    const src = from ? inCopy(from.dir, from.workdir, source) : join(root, source);
    assert.ok(existsSync(src), `COPY source ${source} does not exist (${src})`);
    const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
    const target =
      intoDir && statSync(src).isFile() ? join(inCopy(dir, workdir, copy.dest), basename(source)) : inCopy(dir, workdir, copy.dest);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(src, target, { recursive: true });
    if (copy.chmod) chmodSync(target, parseInt(copy.chmod, 8));
  }
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, with Docker's rules: last match wins, a pattern also matches a path's parents.

function dockerignored(path: string, patterns: string[]): boolean {
  const regex = (pattern: string): RegExp => {
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i] ?? '';
      if (c === '*' && pattern[i + 1] === '*') {
        re += '.*';
        i++;
        if (pattern[i + 1] === '/') i++;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`);
  };
  const parts = path.split('/');
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = posix.normalize(negate ? raw.slice(1) : raw).replace(/^\/|\/$/g, '');
    const re = regex(pattern);
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) ignored = !negate;
  }
  return ignored;
}

function filesUnder(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((name) => filesUnder(posix.join(path, name)));
}

// ---------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  test('hadolint finds nothing, and ignores no rule without a comment saying why', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mtf-hadolint-'));
    try {
      // An empty HOME / XDG_CONFIG_HOME: only the project's own config (none) applies.
      const ran = await run(hadolintPath(), ['--no-color', 'Dockerfile'], { env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home } });
      assert.equal(ran.code, 0, describeRun(ran));
      assert.equal(ran.stdout.trim(), '', 'not even info or style findings');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    const lines = read('Dockerfile').split('\n');
    lines.forEach((line, i) => {
      if (!/hadolint\s+ignore/.test(line)) return;
      const previous = lines[i - 1] ?? '';
      assert.ok(
        previous.startsWith('#') && !/hadolint/.test(previous),
        `line ${i + 1}: an ignored rule needs a comment line above it saying why`,
      );
    });
  });

  test('two stages on a pinned node 20 bookworm-slim: build with the dev dependencies, run with production ones only', () => {
    const { build, runtime } = stages();
    assert.match(build.image, /^node:20\.\d+\.\d+-bookworm-slim$/, 'a pinned node 20 image');
    assert.equal(runtime.image, build.image, 'both stages on the same node');
    const buildRuns = runsOf(build).join('\n');
    assert.match(buildRuns, /^npm ci\b(?!.*--omit)/m, 'the build stage installs every dependency');
    assert.match(buildRuns, /\bnpm run build\b/, 'and runs the build (tsc + the prebuilt workflow bundles)');
    const runtimeRuns = runsOf(runtime).join('\n');
    assert.match(runtimeRuns, /\bnpm ci --omit=dev\b/, 'the runtime stage installs production dependencies only');
    assert.doesNotMatch(runtimeRuns, /npm run build|tsc/, 'and builds nothing');
    const fromBuild = copiesOf(runtime).filter((c) => c.from === 'build');
    const copied = fromBuild.flatMap((c) => c.sources.map((s) => posix.relative(workdirOf(build), posix.resolve(workdirOf(build), s))));
    assert.deepEqual(
      copied.sort(),
      ['dist/src', `dist/${basename(PREBUILT_BUNDLE)}`, `dist/${basename(PREBUILT_ENCODED_FAILURES_BUNDLE)}`].sort(),
      'only the compiled code and the two prebuilt bundles come from the build stage (no tests, no dev dependencies)',
    );
    assert.ok(
      copiesOf(runtime).every(
        (c) => c.from === 'build' || c.sources.every((s) => ['package.json', 'package-lock.json', 'deploy/entrypoint.sh'].includes(s)),
      ),
      'the runtime stage takes nothing else from the build context',
    );
  });

  test('runs as the node user, SIGTERM reaches node: tini in exec form, then the entrypoint execs the worker', () => {
    const { runtime } = stages();
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    assert.equal(users.at(-1)?.args, '1000:1000', "the node image's `node` user, by number");
    const entrypoints = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT');
    assert.equal(entrypoints.length, 1);
    const entrypoint = JSON.parse(entrypoints[0]?.args ?? '') as string[];
    assert.deepEqual(
      entrypoint,
      ['/usr/bin/tini', '--', '/app/deploy/entrypoint.sh'],
      'exec form: tini is PID 1, the entrypoint its child',
    );
    assert.match(runsOf(runtime).join('\n'), /apt-get install -y --no-install-recommends tini=/, 'tini comes from a pinned Debian package');
    const script = copiesOf(runtime).find((c) => c.sources.includes('deploy/entrypoint.sh'));
    assert.equal(script && posix.resolve(workdirOf(runtime), script.dest), '/app/deploy/entrypoint.sh');
    assert.equal(script?.chmod, '0755');
    const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD');
    assert.deepEqual(JSON.parse(cmd.at(-1)?.args ?? '') as string[], ['worker']);
    assert.match(read('deploy/entrypoint.sh'), /^exec mtf-ping-pong worker "\$@"$/m, 'the worker replaces the shell');
  });

  test("ENV holds the code's defaults, with metrics and health on every interface, and EXPOSEs their ports", () => {
    const { runtime } = stages();
    const env = envOf(runtime);
    assert.equal(env.TASK_QUEUE_NAME, DEFAULT_TASK_QUEUE);
    assert.equal(env.TEMPORAL_NAMESPACE, 'default');
    assert.equal(env.WORKER_IDENTITY, DEFAULT_IDENTITY);
    assert.equal(hostPort(env.TEMPORAL_ADDRESS ?? '').port, hostPort(DEFAULT_ADDRESS).port);
    assert.deepEqual(hostPort(env.METRICS_ADDRESS ?? ''), { host: '0.0.0.0', port: METRICS_PORT });
    assert.deepEqual(hostPort(env.HEALTH_ADDRESS ?? ''), { host: '0.0.0.0', port: HEALTH_PORT });
    assert.equal(env.START_LOOP, 'false', 'the image starts no loop unless told to');
    const known = envNamesTheCodeReads();
    for (const name of Object.keys(env)) assert.ok(known.has(name), `ENV ${name} is read by nothing`);
    const exposed = runtime.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map(Number));
    assert.deepEqual(exposed.sort(), [METRICS_PORT, HEALTH_PORT].sort());
    const { options } = healthcheckOf(runtime);
    assert.ok(
      seconds(options['start-period'] ?? '0s') >= seconds(env.TEMPORAL_WAIT ?? ''),
      'the start period covers the wait for Temporal',
    );
  });

  test('.dockerignore lets through every COPY source, and no node_modules, dist, .toolchain, .data or test artefact', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const sources = dockerfile.stages.flatMap((s) =>
      copiesOf(s)
        .filter((c) => !c.from)
        .flatMap((c) => c.sources),
    );
    for (const file of sources.flatMap(filesUnder)) assert.equal(dockerignored(file, patterns), false, `${file} is copied but ignored`);
    const unwanted = [
      'node_modules/commander/package.json',
      'dist/src/cli/main.js',
      '.toolchain/venv/bin/temporal',
      '.data/temporal.db',
      '.git/HEAD',
      'test/server/deploy.test.ts',
      'bench/results.json',
      'soak-results.json',
      'temporal-server.log',
      'docs/dashboard.png',
      'deploy/k8s/deployment.yaml',
    ];
    for (const file of unwanted) assert.equal(dockerignored(file, patterns), true, `${file} reaches the build context`);
  });

  test('the HEALTHCHECK command: 0 when /healthz answers 200, not 0 when nothing listens or it answers 503', async () => {
    const { runtime } = stages();
    const { command } = healthcheckOf(runtime);
    assert.equal(command[0], 'node', 'node itself: the slim image has no curl');
    const check = (healthAddress: string) =>
      run(process.execPath, command.slice(1), { env: { ...process.env, HEALTH_ADDRESS: healthAddress }, timeoutMs: 20_000 });
    const paths: string[] = [];
    let status = 200;
    const server: Server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(req.url === '/healthz' ? status : 404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const closed = await freePort();
      const [nothing, ok, wildcard] = await Promise.all([
        check(`127.0.0.1:${closed}`),
        check(`127.0.0.1:${port}`),
        check(`0.0.0.0:${port}`),
      ]);
      assert.notEqual(nothing.code, 0, `nothing listens: ${describeRun(nothing)}`);
      assert.equal(ok.code, 0, describeRun(ok));
      assert.equal(wildcard.code, 0, `HEALTH_ADDRESS 0.0.0.0:port is checked on loopback: ${describeRun(wildcard)}`);
      assert.deepEqual(paths, ['/healthz', '/healthz']);
      status = 503;
      const unhealthy = await check(`127.0.0.1:${port}`);
      assert.notEqual(unhealthy.code, 0, describeRun(unhealthy));
    } finally {
      server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('deploy/entrypoint.sh', () => {
  const script = join(root, 'deploy', 'entrypoint.sh');

  test('is POSIX sh, executable, and shellcheck finds nothing; so are the Temporal setup scripts of the demo and the cluster tests', async () => {
    const text = read('deploy/entrypoint.sh');
    assert.ok((statSync(script).mode & 0o111) !== 0, 'executable');
    // The setup scripts run as `sh SCRIPT` (Compose mounts them read-only): no executable bit needed.
    const scripts = ['deploy/entrypoint.sh', SETUP_SCRIPTS.schema, SETUP_SCRIPTS.namespace];
    for (const path of scripts) {
      assert.match(read(path), /^#!\/bin\/sh\n/, `${path}: POSIX sh`);
      assert.match(read(path), /^set -eu$/m, `${path}: set -eu`);
    }
    const ran = await run(shellcheckPath(), ['--shell=sh', '--severity=style', '--format=gcc', ...scripts]);
    assert.equal(ran.code, 0, describeRun(ran));
    assert.equal(ran.stdout.trim(), '');
    assert.match(
      text,
      new RegExp(`^EXIT_ALREADY_RUNNING=${ExitCode.AlreadyRunning}$`, 'm'),
      "the CLI's exit code for a loop already running",
    );
  });

  describe('with a stub mtf-ping-pong on PATH that records its calls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtf-entrypoint-'));
    const bin = join(dir, 'bin');
    after(() => rmSync(dir, { recursive: true, force: true }));

    before(() => {
      mkdirSync(bin);
      const stub = join(bin, 'mtf-ping-pong');
      writeFileSync(
        stub,
        [
          '#!/bin/sh',
          'line=""',
          'for arg in "$@"; do line="$line[$arg]"; done',
          'printf "%s\\n" "$line" >> "$STUB_LOG"',
          'case "$1" in',
          '  health) exit "${STUB_HEALTH_EXIT:-0}" ;;',
          '  start) exit "${STUB_START_EXIT:-0}" ;;',
          '  worker) printf "pid %s\\n" "$$" >> "$STUB_LOG"; exit "${STUB_WORKER_EXIT:-0}" ;;',
          'esac',
          '',
        ].join('\n'),
      );
      chmodSync(stub, 0o755);
    });

    let runs = 0;
    async function entrypoint(env: Record<string, string>, args: string[] = []) {
      const log = join(dir, `calls-${++runs}.log`);
      writeFileSync(log, '');
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(START_LOOP|MTF_|TEMPORAL_)/.test(k)));
      const child = spawn(script, args, {
        env: { ...clean, PATH: `${bin}:${process.env.PATH ?? ''}`, STUB_LOG: log, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: AbortSignal.timeout(20_000),
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      const [code] = (await once(child, 'exit')) as [number | null];
      const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
      const pid = lines.find((l) => l.startsWith('pid '));
      return {
        code,
        stderr,
        calls: lines.filter((l) => !l.startsWith('pid ')),
        workerPid: pid ? Number(pid.slice(4)) : null,
        pid: child.pid,
      };
    }

    const health = '[health][--temporal-only][--wait][120s]';

    test('by default: wait for Temporal, then exec the worker (same PID: it gets SIGTERM itself)', async () => {
      const r = await entrypoint({});
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.calls, [health, '[worker]']);
      assert.equal(r.workerPid, r.pid, 'the worker replaced the shell (exec)');
    });

    test('START_LOOP=true: health, then start, then the worker; TEMPORAL_WAIT and MTF_CONFIG_FILE are passed on', async () => {
      const plain = await entrypoint({ START_LOOP: 'true' });
      assert.deepEqual(plain.calls, [health, '[start]', '[worker]']);
      const configured = await entrypoint({ START_LOOP: 'TRUE', MTF_CONFIG_FILE: '/etc/mtf/loop config.json', TEMPORAL_WAIT: '5s' });
      assert.deepEqual(configured.calls, [
        '[health][--temporal-only][--wait][5s]',
        '[start][--config][/etc/mtf/loop config.json]',
        '[worker]',
      ]);
      assert.equal(configured.workerPid, configured.pid);
    });

    test('a loop already running is no error; any other failure of start keeps the worker from starting', async () => {
      const running = await entrypoint({ START_LOOP: '1', STUB_START_EXIT: String(ExitCode.AlreadyRunning) });
      assert.equal(running.code, 0, running.stderr);
      assert.deepEqual(running.calls, [health, '[start]', '[worker]']);
      assert.match(running.stderr, /already running/);
      const invalid = await entrypoint({ START_LOOP: 'yes', STUB_START_EXIT: String(ExitCode.Usage) });
      assert.equal(invalid.code, ExitCode.Usage);
      assert.deepEqual(invalid.calls, [health, '[start]']);
    });

    test('Temporal silent for the whole wait: exit non-zero, no loop start, no worker', async () => {
      const r = await entrypoint({ START_LOOP: 'true', STUB_HEALTH_EXIT: String(ExitCode.Failure) });
      assert.equal(r.code, ExitCode.Failure);
      assert.deepEqual(r.calls, [health]);
      assert.match(r.stderr, /not starting the worker/);
    });

    test('START_LOOP that is neither true nor false: exit 2 before anything runs', async () => {
      const r = await entrypoint({ START_LOOP: 'maybe' });
      assert.equal(r.code, ExitCode.Usage);
      assert.deepEqual(r.calls, []);
      assert.match(r.stderr, /START_LOOP must be true or false/);
    });

    test('`worker --address A` passes the options on; any other command is run as is, with nothing before it', async () => {
      const worker = await entrypoint({ START_LOOP: 'true' }, ['worker', '--address', 'temporal.example:7233']);
      const opts = '[--address][temporal.example:7233]';
      assert.deepEqual(worker.calls, [`${health}${opts}`, `[start]${opts}`, `[worker]${opts}`]);
      const status = await entrypoint({ START_LOOP: 'true' }, ['status', '--json']);
      assert.deepEqual(status.calls, ['[status][--json]']);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('the image outside Docker: its RUN steps, its file set, the real entrypoint', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'mtf-image-'));
  const buildDir = join(scratch, 'build');
  const appDir = join(scratch, 'app');
  const binDir = join(scratch, 'bin');
  let prepared: Promise<void>;
  let env: TestWorkflowEnvironment | undefined;
  let sim: Simulator | undefined;

  /** The build stage: its COPYs from the repository, its RUNs in the copy (`npm ci` → the repository's node_modules). */
  async function buildStageRuns(build: Stage): Promise<void> {
    const workdir = workdirOf(build);
    for (const ins of build.instructions) {
      if (ins.keyword === 'COPY') {
        const [copy] = copiesOf({ ...build, instructions: [ins] });
        if (copy) emulateCopy(copy, buildDir, workdir, {});
      } else if (ins.keyword === 'RUN') {
        const command = flagsOf(ins.args).rest;
        if (/^npm ci\b/.test(command)) {
          // The lockfile's full install is the repository's own node_modules: reused, not reinstalled.
          symlinkSync(join(root, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
          continue;
        }
        const ran = await run('sh', ['-c', command], { cwd: buildDir });
        assert.equal(ran.code, 0, `build stage RUN ${command}: ${describeRun(ran)}`);
      }
    }
  }

  /** The runtime stage up to the COPY from the build stage: `npm ci --omit=dev` for real (from npm's cache, offline). */
  async function runtimeStageRuns(runtime: Stage): Promise<void> {
    const workdir = workdirOf(runtime);
    const stageEnv = { ...process.env, ...envOf(runtime), npm_config_offline: 'true' };
    for (const ins of runtime.instructions) {
      if (ins.keyword === 'COPY' && !/--from=/.test(ins.args)) {
        const [copy] = copiesOf({ ...runtime, instructions: [ins] });
        if (copy) emulateCopy(copy, appDir, workdir, {});
      } else if (ins.keyword === 'RUN') {
        const command = flagsOf(ins.args).rest;
        if (/apt-get/.test(command)) {
          // Needs root and Debian's archive inside the image: only its `ln -s` of the CLI is reproduced.
          const link = /ln -s (\S+) (\S+)/.exec(command);
          assert.ok(link?.[1] && link[2], 'the runtime stage links the CLI onto PATH');
          assert.equal(dirname(link[2]), '/usr/local/bin');
          symlinkSync(inCopy(appDir, workdir, link[1]), join(binDir, basename(link[2])));
          continue;
        }
        const ran = await run('sh', ['-c', command], { cwd: appDir, env: stageEnv });
        assert.equal(ran.code, 0, `runtime stage RUN ${command}: ${describeRun(ran)}`);
      }
    }
  }

  before(() => {
    const { build, runtime } = stages();
    mkdirSync(buildDir);
    mkdirSync(appDir);
    mkdirSync(binDir);
    // The two stages' RUN steps are independent until the COPY --from=build: run them side by side.
    prepared = Promise.all([buildStageRuns(build), runtimeStageRuns(runtime)]).then(() => {
      for (const copy of copiesOf(runtime).filter((c) => c.from)) {
        emulateCopy(copy, appDir, workdirOf(runtime), { build: { dir: buildDir, workdir: workdirOf(build) } });
      }
    });
    // Not awaited here: the tests that need the file set await it; a failure fails them, not the hook.
    prepared.catch(() => undefined);
  });

  after(async () => {
    for (const child of followed) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([env?.teardown(), sim?.close()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the runtime file set: production dependencies only, one native bridge, the CLI runs from it', async () => {
    await prepared;
    const modules = join(appDir, 'node_modules');
    // The lockfile marks what only the dev dependencies need: none of it, and all of the rest.
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
    const entries = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'));
    assert.ok(
      entries.some(([, p]) => p.dev),
      'the lockfile marks dev-only packages',
    );
    for (const [path, entry] of entries) {
      if (entry.dev) assert.equal(existsSync(join(appDir, path)), false, `${path} (dev only) is not in the image`);
      else if (!entry.optional) assert.ok(existsSync(join(appDir, path)), `${path} is installed`);
    }
    for (const name of Object.keys(packageJson.dependencies)) assert.ok(existsSync(join(modules, name)), `${name} is installed`);
    assert.equal(readdirSync(join(modules, '@temporalio', 'core-bridge', 'releases')).length, 1, "only this platform's prebuilt bridge");
    assert.ok(
      existsSync(join(appDir, 'dist', basename(PREBUILT_BUNDLE))) &&
        existsSync(join(appDir, 'dist', basename(PREBUILT_ENCODED_FAILURES_BUNDLE))),
    );
    assert.equal(existsSync(join(appDir, 'dist', 'test')), false, 'no compiled tests');
    const help = await run(process.execPath, ['dist/src/cli/main.js', '--help'], { cwd: appDir, timeoutMs: 30_000 });
    assert.equal(help.code, 0, describeRun(help));
    assert.match(help.stdout, /worker/);
    const linked = await run(join(binDir, 'mtf-ping-pong'), ['worker', '--help'], { cwd: appDir, timeoutMs: 30_000 });
    assert.equal(linked.code, 0, `the mtf-ping-pong link runs the CLI: ${describeRun(linked)}`);
  });

  /** The entrypoint's environment: the image's ENV, then the test's loopback addresses. */
  async function imageEnv(extra: Record<string, string>): Promise<NodeJS.ProcessEnv> {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(START_LOOP|MTF_|TEMPORAL_|TASK_QUEUE_NAME|WORKER_IDENTITY|HEALTH_ADDRESS|METRICS_ADDRESS|LOG_)/.test(k),
      ),
    );
    const [health, metrics] = [await freePort(), await freePort()];
    return {
      ...clean,
      ...envOf(stages().runtime),
      PATH: `${binDir}:${process.env.PATH ?? ''}`,
      HEALTH_ADDRESS: `127.0.0.1:${health}`,
      METRICS_ADDRESS: `127.0.0.1:${metrics}`,
      ...extra,
    };
  }

  test('the real entrypoint, Temporal unreachable for TEMPORAL_WAIT: exit 1, no worker', async () => {
    await prepared;
    const closed = await freePort();
    const ran = await run(join(appDir, 'deploy', 'entrypoint.sh'), [], {
      cwd: appDir,
      env: await imageEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${closed}`, TEMPORAL_WAIT: '1s', START_LOOP: 'true' }),
      timeoutMs: 30_000,
    });
    assert.equal(ran.code, ExitCode.Failure, describeRun(ran));
    assert.match(ran.stdout, /temporal\s+FAIL/);
    assert.match(ran.stderr, /not starting the worker/);
    assert.doesNotMatch(ran.stdout + ran.stderr, /worker (polling|started)/);
  });

  test('the real entrypoint against a real dev server: loop started, worker exec-ed and healthy, a second one finds the loop running, SIGTERM stops both cleanly', async () => {
    const [devEnv, simulator] = await Promise.all([createDevServerEnv(), startSimulator(), prepared]);
    env = devEnv;
    sim = simulator;
    const config = join(scratch, 'loop.json');
    writeFileSync(config, JSON.stringify({ mtf_url: simulator.runUrl, symbols: ['BTCUSDT'], ping_interval: 3600 }));
    const common = {
      TEMPORAL_ADDRESS: devEnv.address,
      TEMPORAL_NAMESPACE: devEnv.namespace ?? 'default',
      TASK_QUEUE_NAME: uniqueId('deploy-tq'),
      START_LOOP: 'true',
      MTF_CONFIG_FILE: config,
      TEMPORAL_WAIT: '30s',
      LOG_LEVEL: 'info',
    };
    const entrypoint = join(appDir, 'deploy', 'entrypoint.sh');

    const firstEnv = await imageEnv(common);
    const first = follow(entrypoint, [], firstEnv);
    await first.waitFor(/started loop mtf-ping-pong/, 'the loop start');
    await first.waitFor(/worker polling/, 'the worker');
    // The PID spawned for the entrypoint is now node running the worker: the shell exec-ed it.
    const cmdline = readFileSync(`/proc/${first.child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(
      basename(cmdline[0] ?? '') === 'node' && cmdline.some((a) => a.endsWith('/mtf-ping-pong')) && cmdline.includes('worker'),
      `PID ${first.child.pid} is the worker: ${cmdline.join(' ')}`,
    );

    const [request] = await simulator.waitForRunRequests(1, 30_000);
    assert.ok(
      request?.idempotency_key?.startsWith(`${DEFAULT_WORKFLOW_ID}/`),
      'the loop started by the entrypoint ran a cycle through this worker',
    );

    const { command } = healthcheckOf(stages().runtime);
    const check = await run(process.execPath, command.slice(1), { env: firstEnv, timeoutMs: 20_000 });
    assert.equal(check.code, 0, `the HEALTHCHECK passes against the real worker: ${describeRun(check)}`);
    const readyz = `http://${firstEnv.HEALTH_ADDRESS}/readyz`;
    await waitFor(
      () => fetch(readyz, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status),
      (s) => s === 200,
      'readyz 200',
      20_000,
    );

    const second = follow(entrypoint, [], await imageEnv(common));
    await second.waitFor(/worker polling/, 'the second worker');
    assert.match(second.output(), /already running/, 'the second start found the loop running and went on');

    first.child.kill('SIGTERM');
    second.child.kill('SIGTERM');
    const [[code1, signal1], [code2, signal2]] = await Promise.all([first.exited, second.exited]);
    assert.deepEqual([code1, signal1], [0, null], `the first worker shut down gracefully:\n${first.output()}`);
    assert.deepEqual([code2, signal2], [0, null], `the second worker shut down gracefully:\n${second.output()}`);
    assert.match(first.output(), /worker stopped/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('deploy/alertmanager/entrypoint.sh', () => {
  const AMTOOL = '/usr/bin/amtool';
  const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
  // Installed by scripts/prometheus.mjs (Debian's prometheus-alertmanager) in `npm test`.
  const missing = [AMTOOL, ALERTMANAGER].filter((p) => !existsSync(p));
  const dir = mkdtempSync(join(tmpdir(), 'mtf-alertmanager-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const SLACK_URL = "https://hooks.slack.com/services/T000/B000/it's-a-test";
  const ROUTING_KEY = 'r0ut1ngk3y0000000000000000000000';
  /** The environment with no MTF_ALERT* of its own: each case sets its own. */
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^MTF_ALERT/.test(k)));

  let renders = 0;
  /** Runs the script's `--render-only` with `env`; the config it wrote, parsed, and its path. */
  async function render(env: Record<string, string>): Promise<{ ran: Ran; file: string; config: Obj | undefined }> {
    const file = join(dir, `alertmanager-${++renders}.yml`);
    const ran = await run('/bin/sh', ['deploy/alertmanager/entrypoint.sh', '--render-only'], {
      env: { ...clean, ...env, MTF_ALERTMANAGER_CONFIG: file },
    });
    return { ran, file, config: existsSync(file) ? obj(parseYaml(readFileSync(file, 'utf8')), file) : undefined };
  }

  /** The receivers amtool routes an alert with these labels to. */
  async function routed(file: string, labels: Record<string, string>): Promise<string[]> {
    const ran = await run(AMTOOL, [
      'config',
      'routes',
      'test',
      `--config.file=${file}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ]);
    assert.equal(ran.code, 0, describeRun(ran));
    return ran.stdout.trim().split(',').sort();
  }

  test('is POSIX sh, and shellcheck finds nothing', async () => {
    const text = read('deploy/alertmanager/entrypoint.sh');
    assert.match(text, /^#!\/bin\/sh\n/);
    assert.match(text, /^set -eu$/m);
    const ran = await run(shellcheckPath(), ['--shell=sh', '--severity=style', '--format=gcc', 'deploy/alertmanager/entrypoint.sh']);
    assert.equal(ran.code, 0, describeRun(ran));
    assert.equal(ran.stdout.trim(), '');
  });

  const cases: { name: string; env: Record<string, string>; critical: string[]; other: string[] }[] = [
    { name: 'no receiver: the UI only', env: {}, critical: ['ui-only'], other: ['ui-only'] },
    {
      name: 'Slack only: everything to Slack',
      env: { MTF_ALERT_SLACK_WEBHOOK_URL: SLACK_URL, MTF_ALERT_SLACK_CHANNEL: '#mtf-alerts' },
      critical: ['slack'],
      other: ['slack'],
    },
    {
      name: 'PagerDuty only: critical pages, the rest in the UI',
      env: { MTF_ALERT_PAGERDUTY_ROUTING_KEY: ROUTING_KEY },
      critical: ['pagerduty', 'ui-only'],
      other: ['ui-only'],
    },
    {
      name: 'both: critical pages and goes to Slack, the rest to Slack',
      env: { MTF_ALERT_SLACK_WEBHOOK_URL: SLACK_URL, MTF_ALERT_PAGERDUTY_ROUTING_KEY: ROUTING_KEY },
      critical: ['pagerduty', 'slack'],
      other: ['slack'],
    },
  ];
  for (const c of cases) {
    test(`writes a config amtool accepts and that routes by severity, ${c.name}`, async (t) => {
      if (missing.length > 0) {
        t.skip(`${missing.join(', ')} missing (scripts/prometheus.mjs installs Debian's prometheus-alertmanager)`);
        return;
      }
      const { ran, file, config } = await render(c.env);
      assert.equal(ran.code, 0, describeRun(ran));
      assert.equal(ran.stdout + ran.stderr, '', 'render-only writes the file and nothing else');
      assert.ok(config, 'a config was written');
      assert.equal(statSync(file).mode & 0o077, 0, 'the config, which holds the secrets, is readable by its owner only');
      const check = await run(AMTOOL, ['check-config', file]);
      assert.equal(check.code, 0, describeRun(check));

      const route = obj(config.route, 'route');
      assert.deepEqual(route.group_by, ['alertname', 'workflow_id']);
      assert.deepEqual(await routed(file, { alertname: 'MtfWorkerDown', severity: 'critical' }), c.critical);
      for (const severity of ['warning', 'info'])
        assert.deepEqual(
          await routed(file, { alertname: 'MtfLoopFailing', workflow_id: 'mtf-ping-pong-loop', severity }),
          c.other,
          severity,
        );

      const receivers = Object.fromEntries(
        arr(config.receivers, 'receivers').map((r) => [str(obj(r, 'receiver').name, 'name'), obj(r, 'receiver')]),
      );
      assert.deepEqual(
        Object.keys(receivers).sort(),
        [...new Set([...c.critical, ...c.other])].sort(),
        'no receiver beyond those routed to',
      );
      if (receivers['ui-only']) assert.deepEqual(Object.keys(receivers['ui-only']), ['name'], 'ui-only sends nothing');
      if (receivers.slack) {
        const slack = obj(arr(receivers.slack.slack_configs, 'slack_configs')[0], 'slack config');
        assert.equal(slack.api_url, SLACK_URL, 'the webhook, a quote in it included');
        assert.equal(slack.send_resolved, true);
        assert.equal(slack.channel, c.env.MTF_ALERT_SLACK_CHANNEL, 'the channel only when set');
      }
      if (receivers.pagerduty) {
        const pagerduty = obj(arr(receivers.pagerduty.pagerduty_configs, 'pagerduty_configs')[0], 'pagerduty config');
        assert.equal(pagerduty.routing_key, ROUTING_KEY);
        assert.equal(pagerduty.send_resolved, true);
      }
    });
  }

  test('a value with a line break: exit 2, no config written', async () => {
    const { ran, config } = await render({ MTF_ALERT_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/x\nroute: {}' });
    assert.equal(ran.code, 2, describeRun(ran));
    assert.match(ran.stderr, /line break/);
    assert.equal(config, undefined);
  });

  test("execs the Alertmanager it is given on the config it wrote, with the extra arguments: Debian's serves it on loopback", async (t) => {
    if (missing.length > 0) {
      t.skip(`${missing.join(', ')} missing (scripts/prometheus.mjs installs Debian's prometheus-alertmanager)`);
      return;
    }
    const port = await freePort();
    const file = join(dir, 'exec.yml');
    const storage = join(dir, 'storage');
    const env = {
      ...clean,
      MTF_ALERT_SLACK_WEBHOOK_URL: SLACK_URL,
      MTF_ALERTMANAGER_CONFIG: file,
      MTF_ALERTMANAGER_BIN: ALERTMANAGER,
      MTF_ALERTMANAGER_STORAGE: storage,
    };
    const am = follow(
      '/bin/sh',
      ['deploy/alertmanager/entrypoint.sh', `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
      env,
    );
    try {
      const status = await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/api/v2/status`, { signal: AbortSignal.timeout(2_000) }).then(
            (r) => r.json() as Promise<{ config: { original: string } }>,
          ),
        (s) => typeof s.config?.original === 'string',
        'Alertmanager to answer',
        20_000,
      );
      const served = obj(parseYaml(status.config.original), 'the config Alertmanager serves');
      assert.equal(obj(served.route, 'route').receiver, 'slack', 'the config the script wrote');
      assert.doesNotMatch(status.config.original, /it's-a-test/, 'Alertmanager shows the webhook as a secret');
      assert.ok(existsSync(storage), 'the storage path given');
      const cmdline = readFileSync(`/proc/${am.child.pid}/cmdline`, 'utf8').split('\0');
      assert.equal(cmdline[0], ALERTMANAGER, 'exec: Alertmanager replaced the shell, so it gets SIGTERM itself');
      assert.ok(cmdline.includes(`--config.file=${file}`));
    } finally {
      am.child.kill('SIGTERM');
      const [code, signal] = await am.exited;
      assert.ok(code === 0 || signal === 'SIGTERM', `Alertmanager stops on SIGTERM (exit ${code ?? signal})\n${am.output()}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  const serviceOf = (services: Obj, name: string) => obj(services[name], `service ${name}`);
  const envMap = (service: Obj, what: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(obj(service.environment, `${what} environment`)).map(([k, v]) => [k, composeDefault(str(v, `${what} ${k}`))]),
    );
  const healthUrl = (service: Obj, what: string): URL => {
    const testCommand = arr(obj(service.healthcheck, `${what} healthcheck`).test, `${what} healthcheck test`)
      .map((v) => str(v, 'test'))
      .join(' ');
    const url = /https?:\/\/[^'"\s]+/.exec(testCommand)?.[0];
    assert.ok(url, `${what}: the healthcheck fetches a URL`);
    return new URL(url);
  };

  test("the worker service: the seed's env vars with the code's defaults, metrics and health on 0.0.0.0, a health check on the health port", () => {
    const compose = yamlFile('docker-compose.yml');
    const services = obj(compose.services, 'services');
    const worker = serviceOf(services, 'mtf-ping-pong');
    assert.equal(worker.profiles, undefined, 'the worker runs without a profile');
    assert.deepEqual(
      Object.keys(services).filter((name) => serviceOf(services, name).profiles === undefined),
      ['mtf-ping-pong'],
      'without a profile, only the worker',
    );
    const env = envMap(worker, 'mtf-ping-pong');
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TASK_QUEUE_NAME', 'WORKER_IDENTITY', 'MTF_URL'])
      assert.ok(name in env, `${name} is set`);
    assert.equal(env.TEMPORAL_ADDRESS, `temporal:${hostPort(DEFAULT_ADDRESS).port}`, "the seed's temporal:7233");
    assert.equal(env.TEMPORAL_NAMESPACE, 'default');
    assert.equal(env.TASK_QUEUE_NAME, DEFAULT_TASK_QUEUE);
    assert.equal(env.WORKER_IDENTITY, DEFAULT_IDENTITY);
    assert.equal(env.MTF_URL, '', "unset unless given: the loop config's mtf_url (its file, else the default) applies");
    assert.deepEqual(hostPort(env.METRICS_ADDRESS ?? ''), { host: '0.0.0.0', port: METRICS_PORT });
    assert.deepEqual(hostPort(env.HEALTH_ADDRESS ?? ''), { host: '0.0.0.0', port: HEALTH_PORT });
    const known = envNamesTheCodeReads();
    for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is read by nothing`);
    const url = healthUrl(worker, 'mtf-ping-pong');
    assert.equal(Number(url.port), HEALTH_PORT);
    assert.match(url.pathname, /^\/(healthz|readyz)$/);
    assert.ok(
      seconds(str(worker.stop_grace_period, 'stop_grace_period')) * 1000 > DEFAULT_SHUTDOWN_GRACE_MS,
      "stop_grace_period is longer than the worker's shutdown grace time",
    );
    assert.ok(
      seconds(str(obj(worker.healthcheck, 'healthcheck').start_period, 'start_period')) >= seconds(env.TEMPORAL_WAIT ?? ''),
      'the start period covers the wait for Temporal',
    );
    assert.equal(worker.image, `mtf-ping-pong:${packageJson.version}`);
    assert.equal(worker.build, '.');
  });

  test('the demo profile: Temporal on PostgreSQL with its schema and namespace set up, its UI, the simulator as the trading app, the dashboard, Prometheus, Alertmanager and Grafana', () => {
    const compose = yamlFile('docker-compose.yml');
    const services = obj(compose.services, 'services');
    const demo = Object.keys(services).filter((name) => arr(serviceOf(services, name).profiles ?? [], 'profiles').includes('demo'));
    assert.deepEqual(
      demo.sort(),
      [
        'alertmanager',
        'dashboard',
        'grafana',
        'mtf-simulator',
        'postgresql',
        'prometheus',
        'temporal',
        'temporal-schema',
        'temporal-setup',
        'temporal-ui',
      ].sort(),
    );
    for (const name of Object.keys(services)) {
      const image = str(serviceOf(services, name).image, `${name} image`);
      assert.match(image, /^[\w./-]+:[\w.-]+$/, `${name}: a pinned tag`);
      assert.doesNotMatch(image, /:latest$/, `${name}: not latest`);
      for (const port of arr(serviceOf(services, name).ports ?? [], `${name} ports`))
        assert.match(str(port, 'port'), /^127\.0\.0\.1:/, `${name}: published on loopback only`);
    }
    // The production server image, no auto-setup: the schema and the namespace are set up by
    // their own one-shot services (compared with the cluster tests below).
    const temporal = serviceOf(services, 'temporal');
    assert.match(str(temporal.image, 'image'), /^temporalio\/server:/);
    assert.equal(temporal.restart, 'unless-stopped');
    assert.deepEqual(temporal.ports, [`127.0.0.1:${hostPort(DEFAULT_ADDRESS).port}:${hostPort(DEFAULT_ADDRESS).port}`]);
    const temporalEnv = envMap(temporal, 'temporal');
    assert.equal(temporalEnv.DB, 'postgres12');
    assert.equal(temporalEnv.POSTGRES_SEEDS, 'postgresql');
    assert.equal(temporalEnv.ENABLE_ES, undefined, 'SQL visibility: no Elasticsearch');
    for (const name of ['temporal-schema', 'temporal-setup']) {
      assert.match(str(serviceOf(services, name).image, `${name} image`), /^temporalio\/admin-tools:/);
      assert.equal(serviceOf(services, name).restart, 'on-failure', `${name}: runs once, again only after a failure`);
    }
    const dependency = (name: string, on: string) =>
      obj(obj(serviceOf(services, name).depends_on, `${name} depends_on`)[on], `${name} depends_on ${on}`).condition;
    assert.equal(dependency('temporal-schema', 'postgresql'), 'service_healthy');
    assert.equal(dependency('temporal', 'temporal-schema'), 'service_completed_successfully');
    assert.equal(dependency('temporal-setup', 'temporal'), 'service_healthy');
    assert.equal(dependency('dashboard', 'temporal-setup'), 'service_completed_successfully', "the dashboard's namespace exists");
    // Healthy once the frontend answers, whatever the namespaces: temporal-setup creates the
    // loop's only after that.
    const healthTest = arr(obj(temporal.healthcheck, 'temporal healthcheck').test, 'temporal healthcheck test').map((a) => str(a, 'arg'));
    assert.deepEqual(healthTest.slice(0, 5), ['CMD', 'temporal', 'operator', 'cluster', 'health']);
    assert.ok(!healthTest.includes('--namespace'), 'the health check needs no namespace');

    // The simulator answers under the host and port of the loop's default mtf_url, from this image.
    const simulator = serviceOf(services, 'mtf-simulator');
    const mtfUrl = new URL(parseLoopConfig({}).mtf_url);
    const aliases = arr(obj(obj(simulator.networks, 'networks').default, 'default network').aliases, 'aliases').map((a) => str(a, 'alias'));
    assert.ok(aliases.includes(mtfUrl.hostname), `the simulator is reachable as ${mtfUrl.hostname}`);
    const simCommand = arr(simulator.command, 'command').map((a) => str(a, 'arg'));
    assert.equal(simCommand[0], 'simulator');
    assert.equal(simCommand[simCommand.indexOf('--port') + 1], mtfUrl.port || '80');
    assert.equal(simCommand[simCommand.indexOf('--host') + 1], '0.0.0.0');
    assert.equal(simulator.image, serviceOf(services, 'mtf-ping-pong').image);

    const dependsOn = obj(
      obj(serviceOf(services, 'mtf-ping-pong').depends_on, 'depends_on')['temporal-setup'],
      'depends_on temporal-setup',
    );
    assert.equal(dependsOn.required, false, 'the worker alone does not need the demo profile');

    // Prometheus scrapes the worker's metrics port; Grafana gets it as data source and the dashboard.
    const prometheus = yamlFile('deploy/prometheus/prometheus.yml');
    const targets = arr(prometheus.scrape_configs, 'scrape_configs').flatMap((c) =>
      arr(obj(c, 'scrape config').static_configs, 'static_configs').flatMap((s) =>
        arr(obj(s, 'static config').targets, 'targets').map((t) => str(t, 'target')),
      ),
    );
    assert.deepEqual(targets, [`mtf-ping-pong:${METRICS_PORT}`]);
    const mounts = (name: string) =>
      arr(serviceOf(services, name).volumes ?? [], `${name} volumes`).map((v) => {
        const [host, target] = str(v, 'volume').split(':');
        return { host: host ?? '', target: target ?? '' };
      });
    for (const name of Object.keys(services)) {
      for (const { host } of mounts(name).filter((m) => m.host.startsWith('./')))
        assert.ok(existsSync(join(root, host)), `${name} mounts ${host}, which exists`);
    }
    assert.ok(
      mounts('prometheus').some((m) => m.host === './deploy/prometheus/prometheus.yml' && m.target === '/etc/prometheus/prometheus.yml'),
    );
    // The rule files prometheus.yml names, mounted next to it.
    for (const rules of arr(prometheus.rule_files, 'rule_files').map((r) => str(r, 'rule file'))) {
      assert.ok(
        mounts('prometheus').some((m) => m.host === `./deploy/prometheus/${rules}` && m.target === posix.join('/etc/prometheus', rules)),
        `${rules} is mounted next to prometheus.yml`,
      );
    }

    // Prometheus fires into the stack's Alertmanager, whose config the mounted entrypoint writes
    // from env vars that default to empty: no secret in this file.
    const alertTargets = arr(obj(prometheus.alerting, 'alerting').alertmanagers, 'alertmanagers').flatMap((a) =>
      arr(obj(a, 'alertmanager').static_configs, 'static_configs').flatMap((s) =>
        arr(obj(s, 'static config').targets, 'targets').map((t) => str(t, 'target')),
      ),
    );
    assert.deepEqual(alertTargets, ['alertmanager:9093']);
    const alertmanager = serviceOf(services, 'alertmanager');
    assert.match(str(alertmanager.image, 'image'), /^prom\/alertmanager:v0\.\d+\.\d+$/);
    assert.equal(alertmanager.restart, 'unless-stopped');
    assert.deepEqual(alertmanager.ports, ['127.0.0.1:9093:9093']);
    const entrypoint = arr(alertmanager.entrypoint, 'entrypoint').map((a) => str(a, 'entrypoint'));
    assert.equal(entrypoint[0], '/bin/sh', "run with the image's busybox sh: a read-only mount needs no executable bit");
    assert.ok(
      mounts('alertmanager').some((m) => m.host === './deploy/alertmanager/entrypoint.sh' && m.target === entrypoint[1]),
      'the mounted script is the entrypoint',
    );
    assert.ok(
      str(
        arr(alertmanager.volumes, 'volumes').find((v) => str(v, 'volume').startsWith('./deploy/alertmanager/')),
        'volume',
      ).endsWith(':ro'),
      'mounted read-only',
    );
    const amEnv = obj(alertmanager.environment, 'alertmanager environment');
    const scriptReads = [...read('deploy/alertmanager/entrypoint.sh').matchAll(/\$\{(MTF_ALERT_[A-Z_]+)/g)].map((m) => m[1] ?? '');
    assert.deepEqual(Object.keys(amEnv).sort(), [...new Set(scriptReads)].sort(), 'the env vars the script reads, each passed through');
    for (const [name, value] of Object.entries(amEnv))
      assert.equal(value, `\${${name}:-}`, `${name}: from the environment or .env, empty by default`);
    const grafana = mounts('grafana');
    const dashboard = grafana.find((m) => m.host === './deploy/grafana/mtf-ping-pong.json');
    assert.ok(dashboard, 'the repository dashboard is mounted');
    assert.ok(grafana.some((m) => m.host === './deploy/grafana/provisioning' && m.target === '/etc/grafana/provisioning'));
    const providers = arr(yamlFile('deploy/grafana/provisioning/dashboards/mtf-ping-pong.yml').providers, 'providers');
    assert.equal(
      str(obj(obj(providers[0], 'provider').options, 'options').path, 'path'),
      posix.dirname(dashboard.target),
      'the provider reads the folder the dashboard is mounted in',
    );
    const datasource = obj(
      arr(yamlFile('deploy/grafana/provisioning/datasources/prometheus.yml').datasources, 'datasources')[0],
      'datasource',
    );
    assert.equal(datasource.type, 'prometheus');
    assert.equal(datasource.url, 'http://prometheus:9090');
    const dashboardJson = JSON.parse(read('deploy/grafana/mtf-ping-pong.json')) as {
      templating: { list: { type: string; query: string }[] };
    };
    assert.ok(
      dashboardJson.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'),
      'the dashboard picks a Prometheus data source',
    );
  });

  test("the demo's Temporal is the cluster tests': the pinned server release, its admin-tools, the same setup scripts", (t) => {
    const compose = yamlFile('docker-compose.yml');
    const services = obj(compose.services, 'services');
    const pin = serverPin();
    const temporal = serviceOf(services, 'temporal');
    assert.equal(
      temporal.image,
      `temporalio/server:${pin.version}`,
      'scripts/temporal-server.json pins the release the cluster tests build',
    );
    assert.ok(pin.adminTools.startsWith(`${pin.version}-`), `admin-tools ${pin.adminTools} is of server release ${pin.version}`);

    /** The service runs the mounted script with the image's sh; the script's env names, and the service's env. */
    const runsScript = (name: string, script: string) => {
      const service = serviceOf(services, name);
      assert.equal(service.image, `temporalio/admin-tools:${pin.adminTools}`, `${name}: the release's admin-tools`);
      const entrypoint = arr(service.entrypoint, `${name} entrypoint`).map((a) => str(a, 'arg'));
      assert.equal(entrypoint.length, 2, `${name}: sh and the script, nothing else`);
      assert.equal(entrypoint[0], '/bin/sh', "run with the image's sh: a read-only mount needs no executable bit");
      const volumes = arr(service.volumes, `${name} volumes`).map((v) => str(v, 'volume'));
      assert.ok(
        volumes.includes(`./${script}:${entrypoint[1]}:ro`),
        `${name}: ${script} is mounted read-only where the entrypoint runs it`,
      );
      assert.equal(service.command, undefined, `${name}: no arguments; the script reads env vars only`);
      const text = read(script);
      const reads = [...text.matchAll(/^: "\$\{([A-Z_]+):([?=])/gm)].map((m) => ({ name: m[1] ?? '', required: m[2] === '?' }));
      assert.ok(reads.length > 0, `${script}: reads its settings with : "\${NAME:...}"`);
      const env = envMap(service, name);
      for (const { name: n } of reads.filter((r) => r.required)) assert.ok(n in env, `${name} sets ${n}, which ${script} requires`);
      for (const n of Object.keys(env))
        assert.ok(
          reads.some((r) => r.name === n),
          `${name} sets ${n}, which ${script} does not read`,
        );
      return { text, reads, env };
    };

    // temporal-schema: every setting of schema.sh but SCHEMA_DIR, whose default is admin-tools'
    // schema folder; the databases it sets up are the ones the server's config names.
    const schema = runsScript('temporal-schema', SETUP_SCRIPTS.schema);
    assert.deepEqual(
      schema.reads.map((r) => r.name).filter((n) => !(n in schema.env)),
      ['SCHEMA_DIR'],
      'temporal-schema sets all of schema.sh but SCHEMA_DIR',
    );
    assert.match(
      schema.text,
      /^: "\$\{SCHEMA_DIR:=\/etc\/temporal\/schema\/postgresql\/v12\}"$/m,
      "SCHEMA_DIR's default: the schema folder of the admin-tools image",
    );
    const pairs = /^for pair in (.+); do$/m.exec(schema.text)?.[1]?.split(/\s+/) ?? [];
    assert.deepEqual(
      pairs.map((p) => p.split(':')),
      [
        ['temporal', 'temporal'],
        ['temporal_visibility', 'visibility'],
      ],
      'schema.sh sets up the persistence and the visibility schemas',
    );
    const temporalEnv = envMap(temporal, 'temporal');
    assert.deepEqual(
      [temporalEnv.DBNAME, temporalEnv.VISIBILITY_DBNAME],
      pairs.map((p) => p.split(':')[0]),
      'the server uses the databases temporal-schema sets up',
    );
    assert.equal(temporalEnv.POSTGRES_SEEDS, schema.env.POSTGRES_SEEDS);
    assert.equal(temporalEnv.DB_PORT, schema.env.DB_PORT);
    assert.equal(temporalEnv.POSTGRES_USER, schema.env.POSTGRES_USER);
    assert.equal(temporalEnv.POSTGRES_PWD, schema.env.SQL_PASSWORD);
    const postgresEnv = envMap(serviceOf(services, 'postgresql'), 'postgresql');
    assert.equal(schema.env.POSTGRES_USER, postgresEnv.POSTGRES_USER);
    assert.equal(schema.env.SQL_PASSWORD, postgresEnv.POSTGRES_PASSWORD);

    // temporal-setup: the worker's namespace on the worker's Temporal, with the loop's search
    // attributes as the code defines them.
    const setup = runsScript('temporal-setup', SETUP_SCRIPTS.namespace);
    const workerEnv = obj(serviceOf(services, 'mtf-ping-pong').environment, 'mtf-ping-pong environment');
    assert.equal(
      obj(serviceOf(services, 'temporal-setup').environment, 'temporal-setup environment').NAMESPACE,
      workerEnv.TEMPORAL_NAMESPACE,
      "the worker's namespace, from the same variable",
    );
    assert.equal(setup.env.TEMPORAL_ADDRESS, composeDefault(str(workerEnv.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS')));
    const specs = /^for spec in (.+); do$/m.exec(setup.text)?.[1]?.split(/\s+/) ?? [];
    assert.deepEqual(
      specs.map((s) => s.replace(':', '=')),
      searchAttributeSpecs(),
      'namespace.sh registers the search attributes of src/shared/search-attributes.ts',
    );

    // The server's env names are the ones the release's config template reads (in Go's module
    // cache once scripts/temporal-server.mjs has built the server; skipped without it).
    const modCache = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8', timeout: 20_000 }).stdout?.trim();
    const template = modCache ? join(modCache, `${pin.module}@v${pin.version}`, 'docker', 'config_template.yaml') : '';
    if (!template || !existsSync(template)) {
      t.diagnostic(
        `the server's config_template.yaml is not in Go's module cache (${template || 'no go'}): the server's env names are not checked against it`,
      );
      return;
    }
    const templateText = readFileSync(template, 'utf8');
    // TEMPORAL_ADDRESS is for the image's entrypoint and the `temporal` CLI, not the template.
    for (const name of Object.keys(temporalEnv).filter((n) => n !== 'TEMPORAL_ADDRESS')) {
      assert.ok(templateText.includes(`.Env.${name} `), `temporal sets ${name}, which the ${pin.version} config template reads`);
    }
    assert.match(
      templateText,
      new RegExp(`databaseName: "\\{\\{ default \\.Env\\.VISIBILITY_DBNAME "temporal_visibility" \\}\\}"`),
      'VISIBILITY_DBNAME names the visibility database',
    );
  });

  test('`docker compose config` accepts the file, with and without the demo profile', async (t) => {
    const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 20_000 });
    if (version.status !== 0) {
      const why = (version.error?.message ?? version.stderr ?? '').trim().split('\n')[0] || `exit ${version.status}`;
      t.skip(`docker compose is not available here (${why}): the YAML and its values are checked above, Compose's own validation is not`);
      return;
    }
    for (const args of [
      ['config', '--quiet'],
      ['--profile', 'demo', 'config', '--quiet'],
    ]) {
      const ran = await run('docker', ['compose', '-f', 'docker-compose.yml', ...args], { timeoutMs: 30_000 });
      assert.equal(ran.code, 0, describeRun(ran));
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('deploy/k8s/deployment.yaml', () => {
  test("a Deployment with the code's defaults, probes on the health routes, a grace period longer than the worker's, non-root", () => {
    const docs = yamlDocuments('deploy/k8s/deployment.yaml');
    const configMap = docs.find((d) => d.kind === 'ConfigMap');
    const deployment = docs.find((d) => d.kind === 'Deployment');
    assert.ok(configMap && deployment, 'a ConfigMap and a Deployment');
    const pod = obj(obj(obj(deployment.spec, 'spec').template, 'template').spec, 'pod spec');
    const containers = arr(pod.containers, 'containers').map((c) => obj(c, 'container'));
    assert.equal(containers.length, 1);
    const container = containers[0] ?? {};
    assert.equal(container.image, `mtf-ping-pong:${packageJson.version}`, 'a pinned image tag');

    const data = obj(configMap.data, 'ConfigMap data');
    const configMapName = str(obj(configMap.metadata, 'metadata').name, 'name');
    assert.ok(arr(container.envFrom, 'envFrom').some((e) => obj(obj(e, 'envFrom').configMapRef, 'configMapRef').name === configMapName));
    const env: Record<string, string> = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, str(v, k)]));
    for (const e of arr(container.env ?? [], 'env').map((x) => obj(x, 'env')))
      env[str(e.name, 'name')] = e.value === undefined ? '(from the cluster)' : str(e.value, 'value');
    assert.equal(env.TASK_QUEUE_NAME, DEFAULT_TASK_QUEUE);
    assert.equal(env.TEMPORAL_NAMESPACE, 'default');
    assert.ok(env.TEMPORAL_ADDRESS && hostPort(env.TEMPORAL_ADDRESS).port === hostPort(DEFAULT_ADDRESS).port);
    assert.ok('WORKER_IDENTITY' in env && 'MTF_URL' in env);
    assert.deepEqual(hostPort(env.METRICS_ADDRESS ?? ''), { host: '0.0.0.0', port: METRICS_PORT });
    assert.deepEqual(hostPort(env.HEALTH_ADDRESS ?? ''), { host: '0.0.0.0', port: HEALTH_PORT });
    const known = envNamesTheCodeReads();
    for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is read by nothing`);

    const ports = Object.fromEntries(
      arr(container.ports, 'ports').map((p) => [str(obj(p, 'port').name, 'name'), Number(obj(p, 'port').containerPort)]),
    );
    assert.deepEqual(ports, { metrics: METRICS_PORT, health: HEALTH_PORT });
    const probe = (name: string) => {
      const get = obj(obj(container[name], name).httpGet, `${name} httpGet`);
      assert.equal(get.port, 'health', `${name} on the health port`);
      return str(get.path, `${name} path`);
    };
    assert.equal(probe('livenessProbe'), '/healthz');
    assert.equal(probe('readinessProbe'), '/readyz');
    assert.equal(probe('startupProbe'), '/healthz');
    const startup = obj(container.startupProbe, 'startupProbe');
    assert.ok(
      Number(startup.periodSeconds) * Number(startup.failureThreshold) > seconds(env.TEMPORAL_WAIT ?? '120s'),
      'the startup probe waits longer than the entrypoint waits for Temporal',
    );

    assert.ok(
      Number(pod.terminationGracePeriodSeconds) * 1000 > DEFAULT_SHUTDOWN_GRACE_MS,
      "terminationGracePeriodSeconds is longer than the worker's shutdown grace time",
    );
    const podSecurity = obj(pod.securityContext, 'pod securityContext');
    assert.equal(podSecurity.runAsNonRoot, true);
    const uid = stages()
      .runtime.instructions.filter((i) => i.keyword === 'USER')
      .at(-1)
      ?.args.split(':')[0];
    assert.equal(String(podSecurity.runAsUser), uid, "the image's user");
    const security = obj(container.securityContext, 'container securityContext');
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.readOnlyRootFilesystem, true);
    const resources = obj(container.resources, 'resources');
    assert.ok(
      obj(resources.requests, 'requests').cpu && obj(resources.requests, 'requests').memory && obj(resources.limits, 'limits').memory,
    );
  });
});

// ---------------------------------------------------------------------------------------------

test('every health path the deployment files probe is a route of the real health server', async () => {
  const paths = new Set<string>();
  const { command } = healthcheckOf(stages().runtime);
  for (const m of command.join(' ').matchAll(/'(\/[a-z]+)'/g)) paths.add(m[1] ?? '');
  const compose = yamlFile('docker-compose.yml');
  const worker = obj(obj(compose.services, 'services')['mtf-ping-pong'], 'mtf-ping-pong');
  const composeTest = arr(obj(worker.healthcheck, 'healthcheck').test, 'test')
    .map((v) => str(v, 'test'))
    .join(' ');
  paths.add(new URL(/https?:\/\/[^'"\s]+/.exec(composeTest)?.[0] ?? 'http://x/').pathname);
  const deployment = yamlDocuments('deploy/k8s/deployment.yaml').find((d) => d.kind === 'Deployment') ?? {};
  const container = obj(
    arr(obj(obj(obj(deployment.spec, 'spec').template, 'template').spec, 'pod').containers, 'containers')[0],
    'container',
  );
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
    paths.add(str(obj(obj(container[probe], probe).httpGet, 'httpGet').path, 'path'));
  assert.deepEqual([...paths].sort(), ['/healthz', '/readyz']);

  const server = await startHealthServer('127.0.0.1:0', () => Promise.resolve({ ready: true, worker: 'RUNNING', temporal: 'ok' }));
  try {
    for (const path of [...paths, '/nope']) {
      const response = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(response.status, path === '/nope' ? 404 : 200, path);
    }
  } finally {
    await server.close();
  }
});
