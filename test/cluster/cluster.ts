/**
 * A production-shaped Temporal for the cluster tests: the real server (scripts/temporal-server.mjs
 * builds the pinned release) on PostgreSQL with SQL advanced visibility, its frontend, history,
 * matching and worker services as four processes, so that one can be killed and started again
 * alone. Everything listens on loopback, on ports picked free; the config is written here. The
 * databases and the namespace are set up by the same scripts the Compose demo runs
 * (SETUP_SCRIPTS), with the schema tool and the stock `temporal` CLI.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { projectRoot, temporalCliPath, toolchainDir } from '../../src/toolchain/binaries';
import { freePort, spawnFollowed, type Followed } from '../../harness/processes';
import { describeRun, runToEnd } from '../helpers/processes';
import { PG_PASSWORD, PG_USER, startPostgres, type Postgres } from './postgres';
import { SETUP_SCRIPTS } from './setup-scripts';

export const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type Service = (typeof SERVICES)[number];

/** What each service logs once it serves (its gRPC listener, or the worker service's workers). */
const READY_LINE: Record<Service, string> = {
  frontend: 'Starting to serve on frontend listener',
  history: 'Starting to serve on history listener',
  matching: 'Starting to serve on matching listener',
  worker: 'worker service started',
};
/** Bounds a service's start: about 1 s each on 2 cores. */
const READY_TIMEOUT_MS = 60_000;
/** Bounds each setup script: the schema takes about 1 s, the namespace about 2 s. */
const SETUP_TIMEOUT_MS = 180_000;
export const NAMESPACE = 'default';

export interface Cluster {
  /** The frontend, host:port: TEMPORAL_ADDRESS for the worker and the CLIs. */
  address: string;
  namespace: string;
  postgres: Postgres;
  /** SIGKILL to one service; resolves once its process is gone. */
  kill(service: Service): Promise<void>;
  /** Starts a service that was killed, on the same ports and config; resolves once it serves. */
  start(service: Service): Promise<void>;
  /** What a service logged since its last start. */
  log(service: Service): string;
  /** A running service's process ID (for SIGSTOP / SIGCONT); undefined while it is down. */
  pid(service: Service): number | undefined;
  /** How long each step of the bring-up took, in ms. */
  timings: { postgres: number; schema: number; services: number; namespace: number };
  /** Stops every service and PostgreSQL, and removes their folders. */
  close(): Promise<void>;
}

/** Where scripts/temporal-server.mjs puts the server, its schema tool and the schema files. */
function serverHome(): string {
  return join(toolchainDir(), 'temporal-server');
}

function serverBinary(name: 'temporal-server' | 'temporal-sql-tool'): string {
  const path = join(serverHome(), 'bin', name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`node scripts/temporal-server.mjs\` (npm run test:cluster does)`);
  return path;
}

/** Runs one of the shared setup scripts with `sh`, the tools it calls on PATH. */
async function runSetupScript(script: string, env: NodeJS.ProcessEnv): Promise<void> {
  const path = [dirname(serverBinary('temporal-sql-tool')), dirname(temporalCliPath()), process.env.PATH ?? ''].join(delimiter);
  const ran = await runToEnd('sh', [join(projectRoot(), script)], {
    env: { ...process.env, ...env, PATH: path },
    timeoutMs: SETUP_TIMEOUT_MS,
  });
  if (ran.code !== 0) throw new Error(describeRun(ran, script));
}

/** `count` distinct free loopback ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * The server's config (JSON is YAML), after the release's config/development-postgres12.yaml:
 * persistence and visibility on PostgreSQL, each service on its own ports, no pprof or metrics
 * listener (each process would bind the same port), no archival.
 */
function serverConfig(pg: Postgres, ports: Record<Service, { grpc: number; membership: number }>, httpPort: number) {
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${pg.host}:${pg.port}`,
      connectProtocol: 'tcp',
      user: PG_USER,
      password: PG_PASSWORD,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (name: Service) => ({
    rpc: {
      grpcPort: ports[name].grpc,
      membershipPort: ports[name].membership,
      bindOnIP: '127.0.0.1',
      ...(name === 'frontend' ? { httpPort } : {}),
    },
  });
  return {
    log: { stdout: true, level: 'info' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: 4,
      datastores: { default: datastore('temporal', 20), visibility: datastore('temporal_visibility', 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: Object.fromEntries(SERVICES.map((name) => [name, service(name)])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend.grpc}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: 'config/dynamicconfig/cluster.yaml', pollInterval: '10s' },
  };
}

/**
 * Dynamic config: only what `temporal server start-dev` sets too, so that a search attribute just
 * registered is seen at once; everything else keeps the release's production defaults.
 */
const DYNAMIC_CONFIG = { 'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }] };

export async function startCluster(): Promise<Cluster> {
  const timings = { postgres: 0, schema: 0, services: 0, namespace: 0 };
  const timed = async <T>(step: keyof typeof timings, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[step] = Date.now() - started;
    }
  };
  const server = serverBinary('temporal-server');
  const pg = await timed('postgres', startPostgres);
  const root = mkdtempSync(join(tmpdir(), 'mtf-cluster-'));
  const processes = new Map<Service, Followed>();
  const close = async () => {
    await Promise.all([...processes.values()].map((p) => p.stop('SIGKILL')));
    await pg.close();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await timed('schema', () =>
      runSetupScript(SETUP_SCRIPTS.schema, {
        POSTGRES_SEEDS: pg.host,
        DB_PORT: String(pg.port),
        POSTGRES_USER: PG_USER,
        SQL_PASSWORD: PG_PASSWORD,
        SCHEMA_DIR: join(serverHome(), 'schema', 'postgresql', 'v12'),
      }),
    );

    const [httpPort, ...rest] = await freePorts(1 + 2 * SERVICES.length);
    const ports = Object.fromEntries(
      SERVICES.map((name, i) => [name, { grpc: rest[2 * i] ?? 0, membership: rest[2 * i + 1] ?? 0 }]),
    ) as Record<Service, { grpc: number; membership: number }>;
    mkdirSync(join(root, 'config', 'dynamicconfig'), { recursive: true });
    writeFileSync(join(root, 'config', 'cluster.yaml'), JSON.stringify(serverConfig(pg, ports, httpPort ?? 0), null, 2));
    writeFileSync(join(root, 'config', 'dynamicconfig', 'cluster.yaml'), JSON.stringify(DYNAMIC_CONFIG, null, 2));

    const running = (name: Service): boolean => {
      const child = processes.get(name)?.child;
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    };
    const start = async (name: Service): Promise<void> => {
      if (running(name)) throw new Error(`the ${name} service is already running`);
      // This release reads <root>/<config>/<env>.yaml: there is no --config-file.
      const child = spawnFollowed(
        server,
        ['--root', root, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start', '--service', name],
        {},
        { cwd: root },
      );
      processes.set(name, child);
      await child.waitForLine((l) => l.includes(READY_LINE[name]), `the ${name} service to serve`, READY_TIMEOUT_MS);
    };
    await timed('services', async () => {
      // One first: services started together on an empty database race to insert the cluster
      // metadata (duplicate key value violates unique constraint "cluster_metadata_info_pkey").
      await start('frontend');
      await Promise.all(SERVICES.filter((s) => s !== 'frontend').map(start));
    });

    const address = `127.0.0.1:${ports.frontend.grpc}`;
    await timed('namespace', () => runSetupScript(SETUP_SCRIPTS.namespace, { TEMPORAL_ADDRESS: address, NAMESPACE }));
    return {
      address,
      namespace: NAMESPACE,
      postgres: pg,
      timings,
      async kill(name) {
        if (!running(name)) throw new Error(`the ${name} service is not running`);
        await processes.get(name)?.stop('SIGKILL');
      },
      start,
      log: (name) => processes.get(name)?.stdout() ?? '',
      pid: (name) => (running(name) ? processes.get(name)?.child.pid : undefined),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
