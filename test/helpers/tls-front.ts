/**
 * A TLS gRPC front before a plaintext dev server, as production Temporal is reached: Debian's nginx
 * (scripts/nginx.mjs) with HTTP/2 and grpc_pass, and certificates made with the system openssl at
 * test time, into a fresh temp dir (nothing generated is ever committed). Two fronts: one that
 * demands a client certificate signed by the test CA (mTLS), one that demands
 * `authorization: Bearer <api key>` (Temporal Cloud's API keys).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort } from '../../harness/processes';

export const NGINX = '/usr/sbin/nginx';
/** The name the server certificate is issued for besides localhost and 127.0.0.1. */
export const SERVER_NAME = 'temporal.test';
/** nginx starts in milliseconds; this only bounds a broken config or binary. */
const READY_TIMEOUT_MS = 10_000;

export interface TlsFiles {
  dir: string;
  /** The CA that signed the server and client certificates. */
  caPem: string;
  /** A CA that signed nothing here: the "wrong CA" case. */
  otherCaPem: string;
  clientCert: string;
  clientKey: string;
  /** A v3 client certificate the other CA signed: one the mTLS front refuses. */
  clientOtherCert: string;
  clientOtherKey: string;
  /** An X.509 v1 client certificate (`openssl x509 -req` without extensions), signed by the CA. */
  clientV1Cert: string;
  clientV1Key: string;
}

export interface TlsFront {
  files: TlsFiles;
  /** 127.0.0.1:PORT of the front that demands a client certificate. */
  mtlsAddress: string;
  /** 127.0.0.1:PORT of the front that demands the API key. */
  apiKeyAddress: string;
  apiKey: string;
  /** Kills nginx by its PID and removes the temp dir. */
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A key and a CSR for `cn`; RSA 2048 because both TLS stacks (rustls in the core, OpenSSL in Node) take it. */
function keyAndRequest(dir: string, name: string, cn: string): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
}

function signed(dir: string, name: string, extensions: string | null, ca = 'ca'): void {
  const args = [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.pem`,
  ];
  if (extensions !== null) {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    args.push('-extfile', `${name}.ext`);
  }
  openssl(dir, args);
}

export function generateTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'mtf-tls-'));
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=mtf test ${ca}`,
    ]);
  }
  keyAndRequest(dir, 'server', SERVER_NAME);
  signed(
    dir,
    'server',
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${SERVER_NAME},DNS:localhost,IP:127.0.0.1\n`,
  );
  keyAndRequest(dir, 'client', 'mtf-worker');
  const clientExtensions = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
  signed(dir, 'client', clientExtensions);
  keyAndRequest(dir, 'client-other', 'mtf-worker-other');
  signed(dir, 'client-other', clientExtensions, 'other-ca');
  // The common quick way: no -extfile, so openssl writes a version 1 certificate.
  keyAndRequest(dir, 'client-v1', 'mtf-worker-v1');
  signed(dir, 'client-v1', null);
  const path = (file: string) => join(dir, file);
  return {
    dir,
    caPem: path('ca.pem'),
    otherCaPem: path('other-ca.pem'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    clientOtherCert: path('client-other.pem'),
    clientOtherKey: path('client-other.key'),
    clientV1Cert: path('client-v1.pem'),
    clientV1Key: path('client-v1.key'),
  };
}

/**
 * The two fronts. Timeouts well above a long poll (about a minute), bodies of MiBs, HTTP/2 both
 * ways; a refused API key is HTTP 401, which gRPC clients turn into UNAUTHENTICATED.
 */
function nginxConfig(dir: string, ports: { mtls: number; apiKey: number; upstream: number }, apiKey: string): string {
  const shared = `
    ssl_certificate ${dir}/server.pem;
    ssl_certificate_key ${dir}/server.key;`;
  const proxy = `grpc_pass grpc://127.0.0.1:${ports.upstream};`;
  return `
# As root, nginx's workers would switch to nobody, who cannot read this 0700 temp dir.
${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 64m;
  grpc_read_timeout 300s;
  grpc_send_timeout 300s;
  server {
    listen 127.0.0.1:${ports.mtls} ssl http2;${shared}
    ssl_client_certificate ${dir}/ca.pem;
    ssl_verify_client on;
    location / { ${proxy} }
  }
  server {
    listen 127.0.0.1:${ports.apiKey} ssl http2;${shared}
    location / {
      if ($http_authorization != "Bearer ${apiKey}") { return 401; }
      ${proxy}
    }
  }
}
`;
}

/** Resolves once `port` completes a TLS handshake (trusting `ca`); rejects when nginx exits or the bound passes. */
async function tlsReady(child: ChildProcess, port: number, ca: Buffer, errorLog: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`nginx exited (${String(code)}) before listening: ${safeRead(errorLog)}`);
  });
  exited.catch(() => undefined);
  for (;;) {
    const attempt = new Promise<boolean>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['h2'] });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (await Promise.race([attempt, exited])) return;
    if (Date.now() > deadline) throw new Error(`nginx did not accept TLS on ${port} within ${READY_TIMEOUT_MS} ms: ${safeRead(errorLog)}`);
    // A refused connection comes back at once: yield to the loop instead of sleeping.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '(no error log)';
  }
}

/** Generates the certificates, writes the config and starts nginx before `upstreamAddress` (host:port of a plaintext dev server). */
export async function startTlsFront(upstreamAddress: string): Promise<TlsFront> {
  const upstream = Number(upstreamAddress.split(':').at(-1));
  const files = generateTlsFiles();
  const apiKey = `mtf-test-key-${Math.random().toString(36).slice(2, 10)}`;
  const [mtls, apiKeyPort] = [await freePort(), await freePort()];
  const conf = join(files.dir, 'nginx.conf');
  const errorLog = join(files.dir, 'error.log');
  writeFileSync(conf, nginxConfig(files.dir, { mtls, apiKey: apiKeyPort, upstream }, apiKey));
  // -e: the error log before the config is read (the compiled-in /var/log/nginx may not be writable).
  const child = spawn(NGINX, ['-p', files.dir, '-c', conf, '-e', errorLog], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      // SIGTERM is nginx's fast shutdown: the master ends its workers, then itself.
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(files.dir, { recursive: true, force: true });
  };
  try {
    const ca = readFileSync(files.caPem);
    await tlsReady(child, apiKeyPort, ca, errorLog);
    await tlsReady(child, mtls, ca, errorLog);
  } catch (err) {
    await stop();
    throw err;
  }
  return { files, mtlsAddress: `127.0.0.1:${mtls}`, apiKeyAddress: `127.0.0.1:${apiKeyPort}`, apiKey, stop };
}
