/**
 * Debian's PostgreSQL (scripts/postgresql.mjs makes sure it is there) for the cluster tests: a
 * throwaway data directory, a loopback port picked free, the Compose demo's user and password
 * (temporal/temporal), and a server that can be stopped and started again on the same data.
 * initdb refuses to run as root, so as root the server runs as the `postgres` user the Debian
 * package creates (or `nobody`), which owns the directory.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnFollowed, type Followed } from '../../harness/processes';

const LIB = '/usr/lib/postgresql';
export const PG_USER = 'temporal';
export const PG_PASSWORD = 'temporal';
/** Bounds a start: a fresh server on 2 cores is ready in about 0.5 s. */
const READY_TIMEOUT_MS = 30_000;

export interface Postgres {
  host: '127.0.0.1';
  port: number;
  /** Starts the server on its data directory (again, after a stop) and resolves once it accepts connections. */
  start(): Promise<void>;
  /**
   * Stops the server: `fast` (SIGINT) rolls back open transactions and closes every connection, as
   * `pg_ctl stop` does; `immediate` (SIGQUIT) drops everything as a crash would, and the next start
   * recovers from the WAL.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** What the server logged (stderr) since its last start. */
  log(): string;
  /** Stops the server if it runs and removes its directory. */
  close(): Promise<void>;
}

/** The newest PostgreSQL under /usr/lib/postgresql: the folder with its initdb and postgres. */
function binDir(): string {
  const majors = existsSync(LIB) ? readdirSync(LIB).filter((m) => existsSync(join(LIB, m, 'bin', 'postgres'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server under ${LIB}: run \`node scripts/postgresql.mjs\` (npm run test:cluster does)`);
  return join(LIB, newest, 'bin');
}

/** As root: the uid and gid to run the server as; otherwise none (the server runs as us). */
function runAs(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  for (const user of ['postgres', 'nobody']) {
    try {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim()));
      if (uid !== undefined && gid !== undefined) return { uid, gid };
    } catch {
      // No such user: try the next.
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

export async function startPostgres(): Promise<Postgres> {
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'mtf-cluster-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'password');
  writeFileSync(pwfile, `${PG_PASSWORD}\n`);
  if ('uid' in user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  // Local socket connections are trusted (they are in our own folder); TCP ones need the password,
  // as the Compose demo's do.
  const initdb = [
    '-D',
    data,
    '-U',
    PG_USER,
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ];
  execFileSync(join(bin, 'initdb'), initdb, { stdio: ['ignore', 'ignore', 'pipe'], ...user });
  const port = await freePort();
  // fsync off: the data is thrown away, and a crash of this machine is not a fault these tests make.
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'max_connections=200',
  ];
  let server: Followed | undefined;

  const pg: Postgres = {
    host: '127.0.0.1',
    port,
    async start() {
      server = spawnFollowed(join(bin, 'postgres'), args, {}, user);
      await server.waitForLine(
        (l) => l.includes('database system is ready to accept connections'),
        `PostgreSQL on port ${port} to be ready`,
        READY_TIMEOUT_MS,
        'stderr',
      );
    },
    async stop(mode = 'fast') {
      const running = server;
      server = undefined;
      await running?.stop(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    },
    log: () => server?.stderr() ?? '',
    async close() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}
