/**
 * toxiproxy (built by scripts/toxiproxy.mjs) as the chaos campaign drives it: its server as a
 * process of ours on a free loopback port, and the few calls of its HTTP API the nemesis makes —
 * a proxy per link, a toxic added and removed.
 */
import { join } from 'node:path';
import { toolchainDir } from '../../src/toolchain/binaries';
import { freePort, spawnFollowed, type Followed } from '../../harness/processes';
import { waitFor } from '../helpers/processes';

/** A toxic as toxiproxy's API takes it (https://github.com/Shopify/toxiproxy#toxics). */
export interface Toxic {
  name: string;
  type: 'latency' | 'timeout' | 'reset_peer' | 'limit_data' | 'slicer';
  stream: 'upstream' | 'downstream';
  attributes: Record<string, number>;
}

export interface Toxiproxy {
  process: Followed;
  /** Creates a proxy listening on a free loopback port; answers its `host:port`. */
  proxy(name: string, upstream: string): Promise<string>;
  addToxic(proxy: string, toxic: Toxic): Promise<void>;
  removeToxic(proxy: string, name: string): Promise<void>;
  /** Every toxic removed, every proxy enabled. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function toxiproxyPath(): string {
  return join(toolchainDir(), 'toxiproxy', 'bin', 'toxiproxy-server');
}

export async function startToxiproxy(): Promise<Toxiproxy> {
  const port = await freePort();
  const server = spawnFollowed(toxiproxyPath(), ['-host', '127.0.0.1', '-port', String(port), '-seed', '1']);
  const api = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown): Promise<void> => {
    const res = await fetch(`${api}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  await waitFor(
    () => fetch(`${api}/version`).then((r) => r.ok),
    (ok) => ok || server.child.exitCode !== null,
    'toxiproxy to answer',
    30_000,
  );
  if (server.child.exitCode !== null) throw new Error(`toxiproxy exited: ${server.stderr()}`);
  return {
    process: server,
    async proxy(name, upstream) {
      const listen = `127.0.0.1:${await freePort()}`;
      await call('POST', '/proxies', { name, listen, upstream, enabled: true });
      return listen;
    },
    addToxic: (proxy, toxic) => call('POST', `/proxies/${proxy}/toxics`, { ...toxic, toxicity: 1 }),
    removeToxic: (proxy, name) => call('DELETE', `/proxies/${proxy}/toxics/${name}`),
    reset: () => call('POST', '/reset'),
    async close() {
      await server.stop('SIGTERM');
    },
  };
}
