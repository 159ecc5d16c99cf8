/**
 * One TLS handshake with the client's own settings, before grpc-js connects. grpc-js retries a
 * handshake it cannot complete (an untrusted CA, a wrong server name) until its connect deadline
 * and then says only "Failed to connect before the deadline"; Node's TLS says why at once.
 */
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TemporalTarget } from './connection';

/** A handshake is a few round trips; this only bounds a front that accepts TCP and then stalls. */
const HANDSHAKE_TIMEOUT_MS = 5_000;

/** The handshake's error (to classify with credentialsProblem), or null when it succeeded or could not be tried. */
export function tlsHandshakeError(target: TemporalTarget): Promise<Error | null> {
  const { tls, apiKey, address } = target.connectionOptions;
  if (!tls && apiKey === undefined) return Promise.resolve(null);
  const settings = typeof tls === 'object' && tls !== null ? tls : {};
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address ?? '');
  if (!match?.[1] || !match[2]) return Promise.resolve(null);
  const host = match[1];
  const servername = settings.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port: Number(match[2]),
      // Without a name, Node checks the certificate against the IP address, as grpc-js does.
      ...(servername !== undefined && { servername }),
      ...(settings.serverRootCACertificate && { ca: Buffer.from(settings.serverRootCACertificate) }),
      ...(settings.clientCertPair && { cert: Buffer.from(settings.clientCertPair.crt), key: Buffer.from(settings.clientCertPair.key) }),
      ALPNProtocols: ['h2'],
    });
    const finish = (error: Error | null): void => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => finish(null));
    socket.once('secureConnect', () => finish(null));
    socket.once('error', finish);
  });
}
