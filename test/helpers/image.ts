/**
 * What the image tests (test/image/) share: a Docker engine of their own with the stand-in base
 * imported, the image's names, and the Kubernetes example's container settings as `docker run` flags.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DOCKER, startDockerd, type Dockerd } from './dockerd';
import { arr, obj, root, str, yamlDocuments, type Obj } from './deploy-files';

/** The stand-in for the Dockerfile's NODE_IMAGE, built by scripts/image-base.mjs. */
export const BASE = 'mtf-standin/node:20.20.2-bookworm-slim';
export const BASE_TARBALL = join(root, '.toolchain', 'image-base', 'rootfs.tar');
export const IMAGE = 'mtf-ping-pong:test';

/** A Docker engine of the test's own, the stand-in base imported (`docker import`: a few seconds). */
export async function engineWithBase(): Promise<Dockerd> {
  const engine = await startDockerd();
  try {
    const imported = spawn(
      DOCKER,
      ['-H', engine.host, 'import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-', BASE],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    createReadStream(BASE_TARBALL).pipe(imported.stdin);
    const [code] = (await once(imported, 'exit')) as [number | null];
    assert.equal(code, 0, `docker import of the stand-in base ${BASE_TARBALL}`);
    return engine;
  } catch (err) {
    await engine.stop();
    throw err;
  }
}

/**
 * deploy/k8s/deployment.yaml's container as `docker run` flags: its user, its security context
 * (read-only root, no capability, no privilege escalation), its memory limit, and its writable
 * mounts (an `emptyDir` becomes a tmpfs; a ConfigMap, the folder `configDir` mounted read-only).
 * Read from the example, so a change there is a change here.
 */
export function kubernetesRunFlags(configDir: string): string[] {
  const deployment = yamlDocuments('deploy/k8s/deployment.yaml').find((doc) => doc.kind === 'Deployment');
  const pod = obj(obj(obj(deployment?.spec, 'spec').template, 'template').spec, 'pod spec');
  const podSecurity = obj(pod.securityContext, 'pod securityContext');
  const container = obj(arr(pod.containers, 'containers')[0], 'container');
  const security = obj(container.securityContext, 'container securityContext');
  const flags = ['--user', `${String(podSecurity.runAsUser)}:${String(podSecurity.runAsGroup)}`];
  if (security.readOnlyRootFilesystem === true) flags.push('--read-only');
  if (security.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  for (const cap of arr(obj(security.capabilities, 'capabilities').drop, 'capabilities.drop')) flags.push('--cap-drop', str(cap, 'cap'));
  const memory = str(obj(obj(container.resources, 'resources').limits, 'limits').memory, 'memory limit');
  flags.push('--memory', memory.replace(/i$/, '').toLowerCase());
  const volumes = new Map(arr(pod.volumes, 'volumes').map((v) => [str(obj(v, 'volume').name, 'volume name'), v as Obj]));
  for (const m of arr(container.volumeMounts, 'volumeMounts')) {
    const mount = obj(m, 'volumeMount');
    const path = str(mount.mountPath, 'mountPath');
    const volume = volumes.get(str(mount.name, 'mount name'));
    if (volume?.emptyDir !== undefined) flags.push('--tmpfs', path);
    else if (volume?.configMap !== undefined) flags.push('-v', `${configDir}:${path}:ro`);
    else assert.fail(`deploy/k8s/deployment.yaml mounts ${path} from a volume this test cannot stand in for`);
  }
  return flags;
}
