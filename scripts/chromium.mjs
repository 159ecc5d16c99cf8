#!/usr/bin/env node
// Makes sure Debian's Chromium is at /usr/bin/chromium for the dashboard's browser test. Run by
// `npm test`, after the Temporal toolchain. Does nothing when it is there; otherwise installs the
// `chromium` package with apt-get (as root, or through `sudo -n` when that works without a
// password), and exits non-zero with one line when it cannot: the browser test must fail loudly,
// never skip, on a machine without a browser.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';

function fail(message) {
  console.error(`chromium: ${message}`);
  process.exit(1);
}

if (existsSync(CHROMIUM)) process.exit(0);

if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
  fail(`${CHROMIUM} is missing and this is not a Debian-like system with apt-get; install Chromium there by hand.`);
}

/** The command prefix that runs apt-get as root, or null when there is none. */
function asRoot() {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return sudo.status === 0 ? ['sudo', '-n'] : null;
}

const prefix = asRoot();
if (prefix === null) {
  fail(`${CHROMIUM} is missing and apt-get needs root: run \`sudo apt-get install -y --no-install-recommends chromium\`, or npm test as root.`);
}

function run(args) {
  const [cmd, ...rest] = [...prefix, ...args];
  try {
    execFileSync(cmd, rest, {
      stdio: ['ignore', 'ignore', 'pipe'],
      // No debconf questions, whatever the terminal.
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    const stderr = String(err.stderr ?? err.message).trim().split('\n').filter(Boolean);
    fail(`\`${args.join(' ')}\` failed: ${stderr.at(-1) ?? 'no output'}`);
  }
}

const started = Date.now();
console.error(`chromium: ${CHROMIUM} is missing; installing Debian's chromium with apt-get (takes a minute)`);
run(['apt-get', 'update']);
run(['apt-get', 'install', '-y', '--no-install-recommends', 'chromium']);
if (!existsSync(CHROMIUM)) fail(`the chromium package installed, but ${CHROMIUM} is still missing.`);
console.error(`chromium: installed in ${Math.round((Date.now() - started) / 1000)} s`);
