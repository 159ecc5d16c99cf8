// Installs one Debian package with apt-get when the binary a test needs is missing: shared by
// scripts/chromium.mjs and scripts/nginx.mjs, which `npm test` runs. As root, or through `sudo -n`
// when that works without a password; exits non-zero with one line when it cannot, so the tests
// that need the binary fail loudly instead of skipping.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';

// Debian's maintainer scripts ask invoke-rc.d, which asks this file; `exit 101` means "start nothing".
const POLICY = '/usr/sbin/policy-rc.d';

// Another install (an unattended upgrade, a second setup script, an unrelated apt-get beside CI) may
// hold the package manager's locks: wait for it, up to this long, rather than fail at once.
const LOCK_WAIT_S = 600;
// apt-get install waits for the dpkg lock itself with this option; apt-get update ignores it for its
// lists lock (apt 2.6), so update is retried while its error names a lock.
const LOCK_OPTION = ['-o', `DPkg::Lock::Timeout=${LOCK_WAIT_S}`];
const LOCK_ERROR = /could not get lock|unable to lock|unable to acquire the dpkg frontend lock/i;
const LOCK_RETRY_MS = 2_000;

/** Blocks the thread for `ms`: this script is synchronous from end to end. */
function pause(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The command prefix that runs a command as root, or null when there is none. */
function asRoot() {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return sudo.status === 0 ? ['sudo', '-n'] : null;
}

/**
 * Makes sure `binary` exists, installing `pkg` (with --no-install-recommends) when it does not.
 * `hint` says what to do by hand; `noServices` keeps the package's service from being started
 * (a policy-rc.d is written for the install and removed after, unless one was there already).
 */
export function ensureDebianPackage({ name, binary, pkg, hint, noServices = false }) {
  const fail = (message) => {
    console.error(`${name}: ${message}`);
    process.exit(1);
  };
  if (existsSync(binary)) return;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    fail(`${binary} is missing and this is not a Debian-like system with apt-get; ${hint}`);
  }
  const prefix = asRoot();
  if (prefix === null) {
    fail(
      `${binary} is missing and apt-get needs root: run \`sudo apt-get install -y --no-install-recommends ${pkg}\`, or npm test as root.`,
    );
  }
  const run = (args) => {
    const [cmd, ...rest] = [...prefix, ...args];
    const waitUntil = Date.now() + LOCK_WAIT_S * 1000;
    for (let said = false; ;) {
      try {
        // No debconf questions, whatever the terminal.
        execFileSync(cmd, rest, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
        return;
      } catch (err) {
        const stderr = String(err.stderr ?? err.message)
          .trim()
          .split('\n')
          .filter(Boolean);
        if (LOCK_ERROR.test(stderr.join('\n')) && Date.now() < waitUntil) {
          if (!said) console.error(`${name}: another install holds the package manager's lock; waiting up to ${LOCK_WAIT_S} s for it`);
          said = true;
          pause(LOCK_RETRY_MS);
          continue;
        }
        // Thrown, not fail(): process.exit would skip removing our policy file.
        throw new Error(`\`${args.join(' ')}\` failed: ${stderr.at(-1) ?? 'no output'}`);
      }
    }
  };
  const holdServices = () => {
    if (!noServices || existsSync(POLICY)) return false;
    if (prefix.length === 0) writeFileSync(POLICY, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    else run(['sh', '-c', `printf '#!/bin/sh\\nexit 101\\n' > ${POLICY} && chmod 755 ${POLICY}`]);
    return true;
  };
  const releaseServices = () => {
    if (prefix.length === 0) unlinkSync(POLICY);
    else run(['rm', '-f', POLICY]);
  };

  const started = Date.now();
  console.error(
    `${name}: ${binary} is missing; installing Debian's ${pkg} with apt-get${noServices ? ', without starting its service' : ''} (takes a minute)`,
  );
  let wrotePolicy = false;
  try {
    wrotePolicy = holdServices();
    run(['apt-get', ...LOCK_OPTION, 'update']);
    run(['apt-get', ...LOCK_OPTION, 'install', '-y', '--no-install-recommends', pkg]);
  } catch (err) {
    if (wrotePolicy) releaseServices();
    fail(err.message);
  }
  if (wrotePolicy) releaseServices();
  if (!existsSync(binary)) fail(`the ${pkg} package installed, but ${binary} is still missing.`);
  console.error(`${name}: installed in ${Math.round((Date.now() - started) / 1000)} s`);
}
