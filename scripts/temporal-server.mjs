#!/usr/bin/env node
// Builds the real Temporal server and its SQL schema tool, at the version scripts/temporal-server.json
// pins (the one docker-compose.yml's `temporal` services run), from the Go module proxy into the
// git-ignored .toolchain/temporal-server/, for `npm run test:cluster`. Once: a later run finds the
// stamp and does nothing (0.1 s). The schema files the tool applies are copied from the module
// beside the binaries, so the harness needs nothing from Go's module cache after the build.
// Takes about 3 minutes on 2 cores with an empty Go cache. Fails with one line when Go or the
// module proxy is missing.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pin = JSON.parse(readFileSync(join(root, 'scripts', 'temporal-server.json'), 'utf8'));
// MTF_TOOLCHAIN_DIR moves it (tests use it to try a build without touching the real one).
const home = join(process.env.MTF_TOOLCHAIN_DIR || join(root, '.toolchain'), 'temporal-server');
const stampPath = join(home, 'stamp.json');
// go install's package path -> the name the server's own images give the binary.
const BINARIES = { 'cmd/server': 'temporal-server', 'cmd/tools/sql': 'temporal-sql-tool' };

function fail(message) {
  console.error(`temporal-server: ${message}`);
  process.exit(1);
}

function go(args, env = {}) {
  const ran = spawnSync('go', args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (ran.error?.code === 'ENOENT') {
    fail(
      `Go was not found on PATH; it builds the Temporal server ${pin.version} for the cluster tests: install Go (go.dev/dl, or Debian's golang package) and run this again.`,
    );
  }
  return ran;
}

const stamp = (() => {
  try {
    return JSON.parse(readFileSync(stampPath, 'utf8'));
  } catch {
    return null;
  }
})();
const ready = stamp?.version === pin.version && Object.values(BINARIES).every((b) => existsSync(join(home, 'bin', b)));
if (ready) process.exit(0);

const goVersion = go(['version']).stdout.trim();
const started = Date.now();
console.error(
  `temporal-server: building ${pin.module} ${pin.version} (temporal-server, temporal-sql-tool) with ${goVersion} into ${home} (about 3 minutes on 2 cores)`,
);
mkdirSync(home, { recursive: true });
const gobin = mkdtempSync(join(home, 'build-'));
try {
  const packages = Object.keys(BINARIES).map((p) => `${pin.module}/${p}@v${pin.version}`);
  const built = go(['install', ...packages], { GOBIN: gobin, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' });
  if (built.status !== 0) {
    const lines = built.stderr.trim().split('\n').filter(Boolean);
    const last = lines.at(-1) ?? 'no output';
    const proxy = go(['env', 'GOPROXY']).stdout.trim();
    const fetching = /proxy|dial tcp|lookup|GOPROXY|no such host|i\/o timeout|connection refused|TLS/i.test(last);
    fail(
      fetching
        ? `could not fetch ${pin.module}@v${pin.version} from the Go module proxy (GOPROXY=${proxy}): ${last}`
        : `\`go install ${packages.join(' ')}\` failed: ${last}`,
    );
  }
  const moduleDir = go(['list', '-m', '-f', '{{.Dir}}', `${pin.module}@v${pin.version}`], { GOFLAGS: '-mod=mod' }).stdout.trim();
  if (!moduleDir || !existsSync(join(moduleDir, 'schema', 'postgresql')))
    fail(`the module's schema files were not found in Go's module cache (${moduleDir || 'go list found nothing'})`);
  rmSync(join(home, 'bin'), { recursive: true, force: true });
  rmSync(join(home, 'schema'), { recursive: true, force: true });
  mkdirSync(join(home, 'bin'));
  for (const [pkg, name] of Object.entries(BINARIES)) renameSync(join(gobin, pkg.split('/').at(-1)), join(home, 'bin', name));
  // Module cache files are read-only; the copies need not be.
  cpSync(join(moduleDir, 'schema', 'postgresql'), join(home, 'schema', 'postgresql'), { recursive: true });
  for (const name of Object.values(BINARIES)) chmodSync(join(home, 'bin', name), 0o755);
} finally {
  rmSync(gobin, { recursive: true, force: true });
}
writeFileSync(stampPath, JSON.stringify({ version: pin.version, go: goVersion }));
console.error(`temporal-server: built in ${Math.round((Date.now() - started) / 1000)} s`);
