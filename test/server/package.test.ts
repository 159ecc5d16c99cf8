/**
 * The package as a user gets it: `npm pack` of the built project, installed into an empty folder
 * with production dependencies only and no Python on the PATH, then its `mtf-ping-pong` binary:
 * `--help`, `dev` without a Temporal CLI (one clear line), and `worker` + `start` + `stop` against a
 * real `temporal server start-dev` and the simulator over loopback. Everything the installed copy
 * runs comes from the tarball and its production dependencies, not from this checkout.
 *
 * npm reaches the registry for the dependencies (the tarball holds no lockfile), from the default,
 * warm cache where it can (`--prefer-offline`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, spawnNode, type Followed } from '../../harness/processes';
import { describeRun, runToEnd } from '../helpers/processes';
import { uniqueId } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

/** dist/test/server/package.test.js -> the project root (package.json, dist/). */
const ROOT = join(__dirname, '..', '..', '..');
const PACK_TIMEOUT_MS = 20_000;
/** 167 packages from a warm cache take ~15 s; a cold one needs the registry for all of them. */
const INSTALL_TIMEOUT_MS = 75_000;
const CALL_TIMEOUT_MS = 20_000;
/**
 * The tarball today: ~1.3 MB, 121 files (the compiled runtime, one file per module, and two 2.2 MB
 * workflow bundles, each with its inline source map). The bounds catch a whole folder let in by
 * mistake (the tests alone are hundreds of files), with room for the modules a release adds.
 */
const MAX_TARBALL_BYTES = 4 * 1024 * 1024;
const MAX_ENTRIES = 160;

/**
 * The environment of a machine without Python: this process's, less the npm_* variables a parent
 * `npm test` exports (they would steer the nested npm), less TEMPORAL_CLI_PATH & co., with PATH a
 * folder of links to every program on the real PATH except Python's, and PYTHON naming nothing.
 */
function pythonlessEnv(scratch: string): NodeJS.ProcessEnv {
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  // The node running the tests first, whatever else the PATH holds.
  symlinkSync(process.execPath, join(bin, 'node'));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || /pyenv|conda|virtualenv|venv/i.test(dir) || !existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (/^(python|pip|pydoc|idle)/i.test(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || /^(TEMPORAL_|MTF_|TASK_QUEUE_NAME$|WORKER_IDENTITY$)/.test(key) || /^(PYTHON|VIRTUAL_ENV|PYENV)/.test(key))
      continue;
    env[key] = value;
  }
  return { ...env, PATH: bin, PYTHON: join(scratch, 'no-python-here') };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

interface PackedFile {
  path: string;
  size: number;
}

let scratch: string;
let env: NodeJS.ProcessEnv;
let tarball: string;
let packed: { size: number; unpackedSize: number; entryCount: number; files: PackedFile[] };
/** The installed package's folder, and its binary as npm linked it. */
let installed: string;
let bin: string;
const processes = new Set<Followed>();
const stack = useDevStack({
  beforeClose: async () => {
    await Promise.all([...processes].map((p) => p.stop('SIGKILL')));
  },
});

async function packAndInstall(): Promise<void> {
  const pack = await runToEnd('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, env, timeoutMs: PACK_TIMEOUT_MS });
  assert.equal(pack.code, 0, describeRun(pack, 'npm pack'));
  // npm may print lifecycle output before the JSON; the JSON array is the last thing on stdout.
  const report = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as (typeof packed & { filename: string })[];
  packed = report[0]!;
  tarball = join(scratch, report[0]!.filename);
  assert.ok(existsSync(tarball), `npm pack wrote ${tarball}`);

  const app = join(scratch, 'app');
  mkdirSync(app);
  // Its own package.json, so npm installs here and never walks up to another project.
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'mtf-install-check', version: '1.0.0', private: true }));
  const install = await runToEnd('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: app,
    env,
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  assert.equal(install.code, 0, describeRun(install, 'npm install of the tarball'));
  installed = join(app, 'node_modules', 'mtf-ping-pong');
  bin = join(app, 'node_modules', '.bin', 'mtf-ping-pong');
}

before(
  async () => {
    scratch = mkdtempSync(join(tmpdir(), 'mtf-package-'));
    env = pythonlessEnv(scratch);
    await packAndInstall();
  },
  { timeout: PACK_TIMEOUT_MS + INSTALL_TIMEOUT_MS + 5_000 },
);

after(() => {
  // node_modules of a real install: ~280 MB, not to be left behind.
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

void describe('the npm package', () => {
  test('nothing on the PATH of the install and the runs below is Python', async () => {
    const found = await runToEnd('sh', ['-c', 'command -v python3 || command -v python || command -v pip3 || command -v pip'], {
      env,
      timeoutMs: CALL_TIMEOUT_MS,
    });
    assert.notEqual(found.code, 0, `no Python program is reachable: ${found.stdout}`);
  });

  test('the tarball holds the compiled runtime, both workflow bundles, README, LICENSE, and no sources, tests, bench or maps', (t) => {
    const paths = packed.files.map((f) => f.path).sort();
    t.diagnostic(
      `tarball ${relative(scratch, tarball)}: ${packed.size} bytes, ${packed.entryCount} files, ${packed.unpackedSize} bytes unpacked`,
    );
    for (const path of paths) {
      assert.ok(!path.endsWith('.ts') && !path.endsWith('.map'), `no TypeScript source or source map: ${path}`);
      assert.ok(
        !/^(dist\/)?(test|bench|src|scripts|deploy|docs)\//.test(path) || path.startsWith('dist/src/'),
        `no tests, bench, sources or tooling: ${path}`,
      );
      assert.ok(!/(^|\/)(\.toolchain|\.data|node_modules)\//.test(path), `no toolchain, data or modules: ${path}`);
    }
    for (const needed of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/src/cli/main.js',
      'dist/src/worker/main.js',
      'dist/workflow-bundle.js',
      'dist/workflow-bundle-encoded-failures.js',
    ]) {
      assert.ok(paths.includes(needed), `the tarball holds ${needed}`);
    }
    // Every compiled runtime module, and nothing else under dist/.
    const built = filesUnder(join(ROOT, 'dist', 'src'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => relative(ROOT, f).split('\\').join('/'));
    assert.deepEqual(
      paths.filter((p) => p.startsWith('dist/src/')),
      built.sort(),
    );
    assert.deepEqual(
      paths.filter((p) => p.startsWith('dist/') && !p.startsWith('dist/src/')),
      ['dist/workflow-bundle-encoded-failures.js', 'dist/workflow-bundle.js'],
    );
    assert.ok(packed.size < MAX_TARBALL_BYTES, `tarball ${packed.size} bytes < ${MAX_TARBALL_BYTES}`);
    assert.ok(packed.entryCount < MAX_ENTRIES, `${packed.entryCount} files < ${MAX_ENTRIES}`);

    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(manifest.bin, { 'mtf-ping-pong': 'dist/src/cli/main.js' });
    assert.match((manifest.engines as { node?: string }).node ?? '', /^>=\s*20/);
    assert.equal(manifest.license, 'MIT');
    assert.ok(manifest.repository, 'repository is set');
    assert.ok(Array.isArray(manifest.files), 'files is set');
  });

  test('every module the installed code requires resolves inside the package or its production dependencies', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const problems: string[] = [];
    let checked = 0;
    for (const file of filesUnder(join(installed, 'dist', 'src')).filter((f) => f.endsWith('.js'))) {
      const code = readFileSync(file, 'utf8');
      for (const [, spec] of code.matchAll(/\brequire(?:\.resolve)?\("([^"]+)"\)/g)) {
        if (spec === undefined || isBuiltin(spec)) continue;
        checked += 1;
        const where = `${relative(installed, file)}: "${spec}"`;
        if (!spec.startsWith('.')) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!(name in manifest.dependencies)) problems.push(`${where} is not a production dependency`);
        }
        try {
          const resolved = require.resolve(spec, { paths: [dirname(file)] });
          if (spec.startsWith('.') && !resolved.startsWith(installed)) problems.push(`${where} resolves outside the package: ${resolved}`);
        } catch {
          problems.push(`${where} does not resolve`);
        }
      }
    }
    assert.ok(checked > 50, `checked ${checked} requires`);
    assert.deepEqual(problems, []);
  });

  test('the installed binary answers --help (its shebang, exec bit and imports work)', async () => {
    assert.ok(statSync(bin).mode & 0o111, 'the binary is executable');
    const help = await runToEnd(bin, ['--help'], { env, timeoutMs: CALL_TIMEOUT_MS });
    assert.equal(help.code, 0, describeRun(help, 'mtf-ping-pong --help'));
    for (const command of ['worker', 'start', 'stop', 'status', 'dev', 'simulator'])
      assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    const worker = await runToEnd(bin, ['worker', '--help'], { env, timeoutMs: CALL_TIMEOUT_MS });
    assert.equal(worker.code, 0, describeRun(worker, 'mtf-ping-pong worker --help'));
  });

  test('dev without a Temporal CLI fails with one line naming TEMPORAL_CLI_PATH', async () => {
    // A loopback port where no Temporal answers: dev would start its own server, and has no binary for it.
    const port = await freePort();
    const cwd = join(scratch, 'dev-cwd');
    mkdirSync(cwd);
    const dev = await runToEnd(bin, ['dev'], {
      cwd,
      env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, MTF_DATA_DIR: join(cwd, 'data') },
      timeoutMs: CALL_TIMEOUT_MS,
    });
    assert.equal(dev.code, 1, describeRun(dev, 'mtf-ping-pong dev'));
    const lines = dev.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${dev.stderr}`);
    assert.match(lines[0]!, /temporal not found at .*TEMPORAL_CLI_PATH/);
    assert.ok(!existsSync(join(cwd, 'data')), 'no data folder left behind');
  });

  test(
    'worker, start and stop from the installed copy run a loop against a real dev server and the simulator',
    { timeout: 90_000 },
    async (t) => {
      const taskQueue = uniqueId('package-tq');
      const workflowId = uniqueId('package-loop');
      const healthPort = await freePort();
      const temporal = {
        TEMPORAL_ADDRESS: stack.env.address,
        TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
        TASK_QUEUE_NAME: taskQueue,
      };
      const startedAt = Date.now();
      // spawnNode merges process.env; the PATH and the rest come from the Python-less env.
      const worker = spawnNode(bin, ['worker'], {
        ...env,
        ...temporal,
        WORKER_IDENTITY: 'package-test-worker',
        METRICS_ADDRESS: 'off',
        HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'warn',
      });
      processes.add(worker);
      await worker.waitForLine((l) => l.startsWith(`worker polling ${taskQueue}`), 'the installed worker to poll', CALL_TIMEOUT_MS);
      const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
      assert.equal(ready.status, 200, `/readyz: ${await ready.text()}`);

      const before = stack.sim.runRequests().length;
      const start = await runToEnd(
        bin,
        ['start', '--id', workflowId, '--url', stack.sim.runUrl, '--interval', '1s', '--symbols', 'BTCUSDT,ETHUSDT'],
        {
          env: { ...env, ...temporal },
          timeoutMs: CALL_TIMEOUT_MS,
        },
      );
      assert.equal(start.code, 0, describeRun(start, 'mtf-ping-pong start'));

      const requests = (await stack.sim.waitForRunRequests(before + 2, 30_000)).slice(before);
      const keys = requests.map((r) => r.idempotency_key ?? '');
      assert.match(keys[0]!, new RegExp(`^${workflowId}/[0-9a-f-]+/1$`));
      assert.match(keys[1]!, new RegExp(`^${workflowId}/[0-9a-f-]+/2$`));
      assert.deepEqual(
        requests.map((r) => (r.body as { symbols?: string[] }).symbols),
        [
          ['BTCUSDT', 'ETHUSDT'],
          ['BTCUSDT', 'ETHUSDT'],
        ],
      );

      const stop = await runToEnd(bin, ['stop', workflowId, '--reason', 'package test', '--timeout', '30s', '--json'], {
        env: { ...env, ...temporal },
        timeoutMs: CALL_TIMEOUT_MS + 30_000,
      });
      assert.equal(stop.code, 0, describeRun(stop, 'mtf-ping-pong stop'));
      const end = JSON.parse(stop.stdout) as {
        how: string;
        summary?: { counters: { cycles: number; succeeded: number }; stop_reason: string | null };
      };
      assert.equal(end.how, 'stopped', stop.stdout);
      const summary = end.summary!;
      assert.ok(summary.counters.cycles >= 2 && summary.counters.succeeded === summary.counters.cycles, `summary: ${stop.stdout}`);
      assert.equal(summary.stop_reason, 'package test');

      assert.equal(await worker.stop('SIGTERM'), 0, `the worker exits 0 on SIGTERM\nstderr: ${worker.stderr()}`);
      processes.delete(worker);
      t.diagnostic(`installed worker: polling to stopped in ${Date.now() - startedAt} ms, ${summary.counters.cycles} cycles`);
    },
  );
});
