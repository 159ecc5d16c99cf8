/**
 * deploy/k8s/deployment.yaml against the code's own defaults: the ConfigMap, the Deployment, its
 * probes, its grace period, non-root; and the fleet file's ConfigMap, mounted where MTF_FLEET_FILE
 * points and holding examples/fleet.yaml.
 */
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_ADDRESS } from '../../src/client/connection';
import { parseFleetFile } from '../../src/fleet/fleet-file';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/messages';
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../../src/worker/worker';
import {
  packageJson,
  seconds,
  hostPort,
  HEALTH_PORT,
  METRICS_PORT,
  obj,
  arr,
  str,
  yamlDocuments,
  envNamesTheCodeReads,
  read,
} from '../helpers/deploy-files';
import { stages } from '../helpers/dockerfile';

/** The file's Deployment's pod spec and its one container, and its ConfigMaps by name. */
function manifest() {
  const docs = yamlDocuments('deploy/k8s/deployment.yaml');
  const deployment = docs.find((d) => d.kind === 'Deployment');
  assert.ok(deployment, 'a Deployment');
  const pod = obj(obj(obj(deployment.spec, 'spec').template, 'template').spec, 'pod spec');
  const containers = arr(pod.containers, 'containers').map((c) => obj(c, 'container'));
  assert.equal(containers.length, 1);
  const container = containers[0] ?? {};
  const configMap = (what: string, name: string) => {
    const found = docs.find((d) => d.kind === 'ConfigMap' && obj(d.metadata, 'metadata').name === name);
    assert.ok(found, `${what}: a ConfigMap named ${name}`);
    return found;
  };
  return { pod, container, configMap };
}

/** The one ConfigMap the container takes its environment from. */
function envFromName(container: Record<string, unknown>): string {
  const refs = arr(container.envFrom, 'envFrom').map((e) => str(obj(obj(e, 'envFrom').configMapRef, 'configMapRef').name, 'name'));
  assert.equal(refs.length, 1, 'one ConfigMap for the environment');
  return refs[0] ?? '';
}

describe('deploy/k8s/deployment.yaml', () => {
  test("a Deployment with the code's defaults, probes on the health routes, a grace period longer than the worker's, non-root", () => {
    const { pod, container, configMap } = manifest();
    assert.equal(container.image, `mtf-ping-pong:${packageJson.version}`, 'a pinned image tag');
    const data = obj(configMap('the env ConfigMap', envFromName(container)).data, 'ConfigMap data');
    const env: Record<string, string> = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, str(v, k)]));
    for (const e of arr(container.env ?? [], 'env').map((x) => obj(x, 'env')))
      env[str(e.name, 'name')] = e.value === undefined ? '(from the cluster)' : str(e.value, 'value');
    assert.equal(env.TASK_QUEUE_NAME, DEFAULT_TASK_QUEUE);
    assert.equal(env.TEMPORAL_NAMESPACE, 'default');
    assert.ok(env.TEMPORAL_ADDRESS && hostPort(env.TEMPORAL_ADDRESS).port === hostPort(DEFAULT_ADDRESS).port);
    assert.ok('WORKER_IDENTITY' in env && 'MTF_URL' in env);
    assert.deepEqual(hostPort(env.METRICS_ADDRESS ?? ''), { host: '0.0.0.0', port: METRICS_PORT });
    assert.deepEqual(hostPort(env.HEALTH_ADDRESS ?? ''), { host: '0.0.0.0', port: HEALTH_PORT });
    const known = envNamesTheCodeReads();
    for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is read by nothing`);

    const ports = Object.fromEntries(
      arr(container.ports, 'ports').map((p) => [str(obj(p, 'port').name, 'name'), Number(obj(p, 'port').containerPort)]),
    );
    assert.deepEqual(ports, { metrics: METRICS_PORT, health: HEALTH_PORT });
    const probe = (name: string) => {
      const get = obj(obj(container[name], name).httpGet, `${name} httpGet`);
      assert.equal(get.port, 'health', `${name} on the health port`);
      return str(get.path, `${name} path`);
    };
    assert.equal(probe('livenessProbe'), '/healthz');
    assert.equal(probe('readinessProbe'), '/readyz');
    assert.equal(probe('startupProbe'), '/healthz');
    const startup = obj(container.startupProbe, 'startupProbe');
    assert.ok(
      Number(startup.periodSeconds) * Number(startup.failureThreshold) > seconds(env.TEMPORAL_WAIT ?? '120s'),
      'the startup probe waits longer than the entrypoint waits for Temporal',
    );

    assert.ok(
      Number(pod.terminationGracePeriodSeconds) * 1000 > DEFAULT_SHUTDOWN_GRACE_MS,
      "terminationGracePeriodSeconds is longer than the worker's shutdown grace time",
    );
    const podSecurity = obj(pod.securityContext, 'pod securityContext');
    assert.equal(podSecurity.runAsNonRoot, true);
    const uid = stages()
      .runtime.instructions.filter((i) => i.keyword === 'USER')
      .at(-1)
      ?.args.split(':')[0];
    assert.equal(String(podSecurity.runAsUser), uid, "the image's user");
    const security = obj(container.securityContext, 'container securityContext');
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.readOnlyRootFilesystem, true);
    const resources = obj(container.resources, 'resources');
    assert.ok(
      obj(resources.requests, 'requests').cpu && obj(resources.requests, 'requests').memory && obj(resources.limits, 'limits').memory,
    );
  });

  test('the fleet file: a ConfigMap holding examples/fleet.yaml, mounted read-only where MTF_FLEET_FILE points; neither --prune nor --confirm-live', () => {
    const { pod, container, configMap } = manifest();
    const env = obj(configMap('the env ConfigMap', envFromName(container)).data, 'ConfigMap data');
    const fleetFile = str(env.MTF_FLEET_FILE, 'MTF_FLEET_FILE');
    assert.equal(env.MTF_FLEET_PRUNE, 'false');
    assert.equal(env.MTF_FLEET_CONFIRM_LIVE, 'false');

    const mount = arr(container.volumeMounts, 'volumeMounts')
      .map((m) => obj(m, 'volumeMount'))
      .find((m) => m.mountPath === posix.dirname(fleetFile));
    assert.ok(mount, `${posix.dirname(fleetFile)}, MTF_FLEET_FILE's folder, is mounted`);
    assert.equal(mount.readOnly, true);
    assert.equal(mount.subPath, undefined, 'the whole folder: a subPath mount would not see the ConfigMap change');
    const volume = arr(pod.volumes, 'volumes')
      .map((v) => obj(v, 'volume'))
      .find((v) => v.name === mount.name);
    assert.ok(volume, `the volume ${str(mount.name, 'name')}`);
    const fleetMap = configMap('the fleet volume', str(obj(volume.configMap, `volume ${str(mount.name, 'name')} configMap`).name, 'name'));
    const text = str(obj(fleetMap.data, 'fleet ConfigMap data')[posix.basename(fleetFile)], posix.basename(fleetFile));

    assert.deepEqual(parseYaml(text), parseYaml(read('examples/fleet.yaml')), 'the ConfigMap holds examples/fleet.yaml');
    const { loops } = parseFleetFile(text, 'the fleet ConfigMap');
    assert.ok(loops.length > 0);
    for (const { id, config } of loops) assert.equal(config.dry_run, true, `${id}: a dry run`);
  });
});
