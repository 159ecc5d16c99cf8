/**
 * The server version and the setup scripts the cluster harness runs, which the Compose demo's
 * `temporal`, `temporal-schema` and `temporal-setup` services run too (test/server/compose.test.ts
 * compares them): the demo's only untested part is Docker itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/toolchain/binaries';

export interface ServerPin {
  /** The Go module the server and its schema tool are built from. */
  module: string;
  /** The server release, without the v: the Compose demo's `temporalio/server` tag. */
  version: string;
  /** The `temporalio/admin-tools` tag of that release, which the demo's setup services run. */
  adminTools: string;
}

/** scripts/temporal-server.json: the one pin of the server version. */
export function serverPin(): ServerPin {
  return JSON.parse(readFileSync(join(projectRoot(), 'scripts', 'temporal-server.json'), 'utf8')) as ServerPin;
}

/** Project-relative paths of the setup scripts (POSIX sh, run as `sh SCRIPT`). */
export const SETUP_SCRIPTS = {
  /** The databases and their schemas, with temporal-sql-tool. */
  schema: 'deploy/temporal/schema.sh',
  /** The namespace and the loop's search attributes, with the stock `temporal` CLI. */
  namespace: 'deploy/temporal/namespace.sh',
} as const;
