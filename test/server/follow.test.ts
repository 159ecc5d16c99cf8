/**
 * Following a loop's cycles (src/cli/follow.ts) through a Temporal outage longer than the client's own
 * retries: `npm start` keeps following and still sees the loop end, `start --wait` fails with the outage.
 * The outage is a real TCP proxy in front of a real dev server that drops every connection while it is down.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket, connect } from 'node:net';
import { test } from 'node:test';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { followLoop } from '../../src/cli/follow';
import { requestStop } from '../../src/client/loops';
import { runRealLoop } from '../helpers/real-loop';
import { useDevStack } from '../helpers/dev-stack';

const stack = useDevStack();

interface Proxy {
  address: string;
  /** Drops the open connections and every new one until {@link Proxy.up}. */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const open = new Set<Socket>();
  let isUp = true;
  const server = createServer((client) => {
    if (!isUp) return client.destroy();
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${own}`,
    down: () => {
      isUp = false;
      for (const socket of open) socket.destroy();
    },
    up: () => {
      isUp = true;
    },
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test(
  'npm start follows its loop through an outage longer than the client retries and sees it end; start --wait fails with it',
  { timeout: 120_000 },
  async () => {
    await runRealLoop(stack.env, stack.sim, { ping_interval: 0.2 }, async (loop) => {
      const proxy = await startProxy(stack.env.address);
      // Two tries per call instead of ten: an outage outlasts the client's retries in a second, not in twenty.
      const connection = await Connection.connect({
        address: proxy.address,
        interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))],
      });
      try {
        const namespace = stack.env.namespace ?? 'default';
        const client = new Client({ connection, namespace });
        const target = { connectionOptions: { address: proxy.address }, namespace, taskQueue: loop.taskQueue };
        await loop.afterRequests(1);
        const patient = followLoop(client, target, loop.workflowId, { pollMs: 100, outlastOutages: true });
        const plain = followLoop(client, target, loop.workflowId, { pollMs: 100 });
        // Both are waiting for the loop's result before the outage starts.
        await loop.afterRequests(2);

        proxy.down();
        await assert.rejects(plain, 'start --wait fails once the outage outlasts the retries');
        proxy.up();

        await requestStop(stack.env.client, loop.workflowId);
        const end = await patient;
        assert.equal(end.how, 'stopped', 'npm start saw the loop stop after the outage');
      } finally {
        await connection.close();
        await proxy.close();
      }
    });
  },
);
