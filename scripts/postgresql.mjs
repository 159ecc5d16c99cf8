#!/usr/bin/env node
// Makes sure Debian's PostgreSQL server is there for `npm run test:cluster`, whose harness runs it
// from a throwaway data directory on a loopback port it picks (test/cluster/postgres.ts). Does
// nothing when a server binary is under /usr/lib/postgresql/; otherwise installs the `postgresql`
// package without starting its service: the system cluster on port 5432 is not ours to start.
import { existsSync, readdirSync } from 'node:fs';
import { ensureDebianPackage } from './debian-package.mjs';

const LIB = '/usr/lib/postgresql';
const present = existsSync(LIB) && readdirSync(LIB).some((major) => existsSync(`${LIB}/${major}/bin/postgres`));
if (!present) {
  // Debian 12's `postgresql` is PostgreSQL 15.
  ensureDebianPackage({
    name: 'postgresql',
    binary: `${LIB}/15/bin/postgres`,
    pkg: 'postgresql',
    hint: 'install PostgreSQL (initdb, postgres) there by hand.',
    noServices: true,
  });
}
