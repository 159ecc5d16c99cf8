#!/usr/bin/env node
// Makes sure Debian's Docker engine (`docker.io`: dockerd, and the client that has BuildKit built in)
// and `debootstrap` (which builds the stand-in base image) are installed, for `npm run test:image`.
// Their services are never started: the image test runs a dockerd of its own on a private socket,
// and a system Docker is not ours to start or touch.
import { ensureDebianPackage } from './debian-package.mjs';

ensureDebianPackage({
  name: 'docker',
  binary: '/usr/sbin/dockerd',
  pkg: 'docker.io',
  hint: "install Debian's docker.io there by hand.",
  noServices: true,
});
ensureDebianPackage({
  name: 'debootstrap',
  binary: '/usr/sbin/debootstrap',
  pkg: 'debootstrap',
  hint: 'install debootstrap there by hand.',
});
