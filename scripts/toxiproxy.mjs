#!/usr/bin/env node
// Builds toxiproxy's server (github.com/Shopify/toxiproxy/v2, the fault proxy the chaos campaign puts
// on the worker ↔ app and worker ↔ frontend links) from the Go module proxy into the git-ignored
// .toolchain/toxiproxy/, for `npm run chaos` and `npm run test:cluster`. Once: a later run finds the
// stamp and does nothing. Takes about 10 s on 2 cores. Fails with one line when Go or the module
// proxy is missing.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODULE = 'github.com/Shopify/toxiproxy/v2';
const VERSION = '2.12.0';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const home = join(process.env.MTF_TOOLCHAIN_DIR || join(root, '.toolchain'), 'toxiproxy');
const binary = join(home, 'bin', 'toxiproxy-server');
const stampPath = join(home, 'stamp.json');

function fail(message) {
  console.error(`toxiproxy: ${message}`);
  process.exit(1);
}

const stamp = (() => {
  try {
    return JSON.parse(readFileSync(stampPath, 'utf8'));
  } catch {
    return null;
  }
})();
if (stamp?.version === VERSION && existsSync(binary)) process.exit(0);

const started = Date.now();
console.error(`toxiproxy: building ${MODULE} ${VERSION} (its server) into ${home} (about 10 s)`);
mkdirSync(home, { recursive: true });
const gobin = mkdtempSync(join(home, 'build-'));
try {
  const built = spawnSync('go', ['install', `${MODULE}/cmd/server@v${VERSION}`], {
    encoding: 'utf8',
    env: { ...process.env, GOBIN: gobin, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (built.error?.code === 'ENOENT')
    fail('Go was not found on PATH; it builds toxiproxy for the chaos campaign: install Go and run this again.');
  if (built.status !== 0)
    fail(`\`go install ${MODULE}/cmd/server@v${VERSION}\` failed: ${built.stderr.trim().split('\n').at(-1) ?? 'no output'}`);
  mkdirSync(dirname(binary), { recursive: true });
  renameSync(join(gobin, 'server'), binary);
  chmodSync(binary, 0o755);
} finally {
  rmSync(gobin, { recursive: true, force: true });
}
writeFileSync(stampPath, JSON.stringify({ version: VERSION }));
console.error(`toxiproxy: built in ${Math.round((Date.now() - started) / 1000)} s`);
