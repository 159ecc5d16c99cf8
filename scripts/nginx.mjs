#!/usr/bin/env node
// Makes sure Debian's nginx is at /usr/sbin/nginx for the TLS tests (test/tls.test.ts), which put a
// TLS gRPC front (HTTP/2, grpc_pass, client-certificate checks) before a dev server. Run by
// `npm test`, beside scripts/chromium.mjs. Does nothing when it is there; otherwise installs the
// `nginx` package with apt-get (in bookworm it carries the binary, built with the ssl, http_v2 and
// grpc modules; nginx-light is only nginx plus an echo module). The package's service is never
// started: the tests run nginx from their own config, and a system nginx on port 80 is not ours
// to start. Exits non-zero with one line when it cannot install: the TLS tests must fail loudly.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';

const NGINX = '/usr/sbin/nginx';
// Debian's maintainer scripts ask invoke-rc.d, which asks this file; `exit 101` means "do not start".
const POLICY = '/usr/sbin/policy-rc.d';

function fail(message) {
  console.error(`nginx: ${message}`);
  process.exit(1);
}

if (existsSync(NGINX)) process.exit(0);

if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
  fail(`${NGINX} is missing and this is not a Debian-like system with apt-get; install nginx (with ssl, http_v2 and grpc) there by hand.`);
}

/** The command prefix that runs a command as root, or null when there is none. */
function asRoot() {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return sudo.status === 0 ? ['sudo', '-n'] : null;
}

const prefix = asRoot();
if (prefix === null) {
  fail(`${NGINX} is missing and apt-get needs root: run \`sudo apt-get install -y --no-install-recommends nginx\` (its service may stay stopped), or npm test as root.`);
}

function run(args, input) {
  const [cmd, ...rest] = [...prefix, ...args];
  try {
    execFileSync(cmd, rest, {
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      // No debconf questions, whatever the terminal.
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    const stderr = String(err.stderr ?? err.message).trim().split('\n').filter(Boolean);
    // Thrown, not fail(): process.exit would skip the finally that removes our policy file.
    throw new Error(`\`${args.join(' ')}\` failed: ${stderr.at(-1) ?? 'no output'}`);
  }
}

/** Writes the "start nothing" policy unless one exists (a container image often has its own); true when we wrote it. */
function holdServices() {
  if (existsSync(POLICY)) return false;
  if (prefix.length === 0) writeFileSync(POLICY, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  else run(['sh', '-c', `printf '#!/bin/sh\\nexit 101\\n' > ${POLICY} && chmod 755 ${POLICY}`]);
  return true;
}

function releaseServices() {
  if (prefix.length === 0) unlinkSync(POLICY);
  else run(['rm', '-f', POLICY]);
}

const started = Date.now();
console.error(`nginx: ${NGINX} is missing; installing Debian's nginx with apt-get, without starting its service`);
let wrotePolicy = false;
try {
  wrotePolicy = holdServices();
  run(['apt-get', 'update']);
  run(['apt-get', 'install', '-y', '--no-install-recommends', 'nginx']);
} catch (err) {
  if (wrotePolicy) releaseServices();
  fail(err.message);
}
if (wrotePolicy) releaseServices();
if (!existsSync(NGINX)) fail(`the nginx package installed, but ${NGINX} is still missing.`);
console.error(`nginx: installed in ${Math.round((Date.now() - started) / 1000)} s`);
