/** Every health path the deployment files (Dockerfile, docker-compose.yml, deploy/k8s) probe is a route of the real health server. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHealthServer } from '../../src/worker/health-server';
import { obj, arr, str, yamlFile, yamlDocuments } from '../helpers/deploy-files';
import { stages, healthcheckOf } from '../helpers/dockerfile';

test('every health path the deployment files probe is a route of the real health server', async () => {
  const paths = new Set<string>();
  const { command } = healthcheckOf(stages().runtime);
  for (const m of command.join(' ').matchAll(/'(\/[a-z]+)'/g)) paths.add(m[1] ?? '');
  const compose = yamlFile('docker-compose.yml');
  const worker = obj(obj(compose.services, 'services')['mtf-ping-pong'], 'mtf-ping-pong');
  const composeTest = arr(obj(worker.healthcheck, 'healthcheck').test, 'test')
    .map((v) => str(v, 'test'))
    .join(' ');
  paths.add(new URL(/https?:\/\/[^'"\s]+/.exec(composeTest)?.[0] ?? 'http://x/').pathname);
  const deployment = yamlDocuments('deploy/k8s/deployment.yaml').find((d) => d.kind === 'Deployment') ?? {};
  const container = obj(
    arr(obj(obj(obj(deployment.spec, 'spec').template, 'template').spec, 'pod').containers, 'containers')[0],
    'container',
  );
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
    paths.add(str(obj(obj(container[probe], probe).httpGet, 'httpGet').path, 'path'));
  assert.deepEqual([...paths].sort(), ['/healthz', '/readyz']);

  const server = await startHealthServer('127.0.0.1:0', () => Promise.resolve({ ready: true, worker: 'RUNNING', temporal: 'ok' }));
  try {
    for (const path of [...paths, '/nope']) {
      const response = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(response.status, path === '/nope' ? 404 : 200, path);
    }
  } finally {
    await server.close();
  }
});
