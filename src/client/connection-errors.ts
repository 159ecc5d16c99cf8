/**
 * A connection to Temporal refused over TLS or credentials, as one line that names the cause and
 * what to set, for both connection stacks: the worker's (the SDK's Rust core: rustls, tonic) and the
 * clients' (grpc-js on Node's OpenSSL), whose raw errors are Rust debug dumps
 * (`tonic::transport::Error(…InvalidCertificate(UnknownIssuer)…)`), a bare "Failed to connect
 * before the deadline", or an HTTP status from a TLS front. The texts matched here are the ones
 * both stacks produce against an nginx front and Temporal Cloud-style refusals (test/server/tls.test.ts).
 */
import { X509Certificate } from 'node:crypto';
import type { TemporalTarget } from './connection';

/**
 * The exit code of a TLS or credentials refusal, for the worker process and every CLI command
 * alike (exit 3 stays "Temporal unreachable").
 */
export const CREDENTIALS_REFUSED_EXIT = 6;

/** A refusal retrying cannot fix: the message says what to change. */
export class CredentialsRefusedError extends Error {
  override readonly name = 'CredentialsRefusedError';
}

type TlsSettings = Exclude<TemporalTarget['connectionOptions']['tls'], boolean | null | undefined>;

function tlsSettings(target: TemporalTarget): TlsSettings | null {
  const { tls } = target.connectionOptions;
  return typeof tls === 'object' && tls !== null ? tls : null;
}

function tlsOn(target: TemporalTarget): boolean {
  const { tls, apiKey } = target.connectionOptions;
  return Boolean(tls) || apiKey !== undefined;
}

function addressOf(target: TemporalTarget): string {
  return target.connectionOptions.address ?? 'localhost:7233';
}

/** Every text an error carries: its message, its gRPC details and code, its cause's, and Node's error code. */
function textOf(err: unknown, depth = 0): string {
  if (!(err instanceof Error) || depth > 3) return String(err);
  const extra = err as Error & { code?: unknown; details?: unknown; cause?: unknown };
  const parts = [err.message, typeof extra.code === 'string' ? extra.code : '', typeof extra.details === 'string' ? extra.details : ''];
  if (typeof extra.code === 'number') parts.push(`grpc-code-${extra.code}`);
  if (extra.cause !== undefined) parts.push(textOf(extra.cause, depth + 1));
  return parts.join(' | ');
}

/** One case-blind pattern matching any of these texts (regular expressions), written as lists so each stays readable. */
function anyOf(...parts: string[][]): RegExp {
  return new RegExp(parts.flat().join('|'), 'i');
}

const UNKNOWN_ISSUER = anyOf(
  ['UnknownIssuer', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'unable to verify the first certificate', 'self[- ]signed certificate'],
);
const WRONG_NAME = /NotValidForName|ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames|CertNotValidForName/i;
// Only a certificate's expiry: a gRPC "deadline expired" is a timeout, not a credentials problem.
const EXPIRED = /CERT_HAS_EXPIRED|InvalidCertificate\(Expired|certificate has expired/;
const V1_CERT = /UnsupportedCertVersion/;
/** nginx answers a request without an accepted client certificate with 400; a TLS 1.2 server ends the handshake with an alert. */
const CLIENT_CERT_REFUSED = anyOf(
  ['status: 400 Bad Request', 'HTTP status code 400', 'CertificateRequired', 'certificate required', 'alert number 116'],
  ['BadCertificate', 'bad certificate', 'alert number 42', 'UnknownCA', 'unknown ca', 'alert number 48'],
);
const UNAUTHENTICATED = /grpc-code-16\b|401 Unauthorized|HTTP status code 401|\bUnauthenticated\b/i;
const PERMISSION_DENIED = /grpc-code-7\b|403 Forbidden|HTTP status code 403|PermissionDenied/i;

/**
 * The names the certificate carries, for the message: rustls lists them after `presented:`
 * (`DnsName("temporal.test")`), Node after `cert's altnames:` (`DNS:temporal.test, IP Address:127.0.0.1`).
 */
function presentedNames(text: string): string {
  const rustls = text.includes('presented')
    ? [...text.slice(text.indexOf('presented')).matchAll(/(?:DnsName|IpAddress)\(\\*"?([^"\\)]+)\\*"?\)/g)]
    : [];
  const node = text.includes("cert's altnames:")
    ? [...text.slice(text.indexOf("cert's altnames:")).matchAll(/(?:DNS|IP Address):([^,\s|]+)/g)]
    : [];
  const names = [...rustls, ...node].map((m) => m[1]).filter((name) => name !== undefined);
  const unique = [...new Set(names)];
  return unique.length > 0 ? ` (it names ${unique.join(', ')})` : '';
}

/**
 * The one line for a TLS or credentials refusal, or null when `err` is something else (an
 * unreachable host stays the callers' "cannot reach Temporal").
 */
export function credentialsProblem(err: unknown, target: TemporalTarget): string | null {
  if (err instanceof CredentialsRefusedError) return err.message;
  const text = textOf(err);
  const at = `Temporal at ${addressOf(target)}`;
  const tls = tlsSettings(target);
  if (V1_CERT.test(text)) return V1_MESSAGE;
  if (UNKNOWN_ISSUER.test(text)) {
    const trusted = tls?.serverRootCACertificate
      ? 'TEMPORAL_TLS_SERVER_CA_CERT_PATH (or _DATA)'
      : 'any CA this system trusts (TEMPORAL_TLS_SERVER_CA_CERT_PATH is not set)';
    return (
      `the certificate of ${at} is not signed by ${trusted} (TLS handshake): set ` +
      `TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed the server's certificate`
    );
  }
  if (WRONG_NAME.test(text)) {
    const name =
      tls?.serverNameOverride ??
      addressOf(target)
        .replace(/:\d+$/, '')
        .replace(/^\[|\]$/g, '');
    return (
      `the certificate of ${at} does not match the name ${name}${presentedNames(text)} ` +
      `(TLS handshake): set TEMPORAL_TLS_SERVER_NAME to a name it was issued for`
    );
  }
  if (EXPIRED.test(text)) return `a certificate on the way to ${at} has expired (TLS handshake): renew it, or check this machine's clock`;
  if (!tlsOn(target)) return null;
  if (CLIENT_CERT_REFUSED.test(text)) {
    return tls?.clientCertPair
      ? `${at} refused the client certificate (TLS handshake): set TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH to a certificate the server's CA signed`
      : `${at} asks for a client certificate and none is set (TLS handshake): set TEMPORAL_TLS_CLIENT_CERT_PATH ` +
          `and TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA) to a certificate the server's CA signed`;
  }
  if (UNAUTHENTICATED.test(text)) {
    return target.connectionOptions.apiKey !== undefined
      ? `${at} refused the API key (UNAUTHENTICATED): check TEMPORAL_API_KEY`
      : `${at} wants credentials (UNAUTHENTICATED): set TEMPORAL_API_KEY, or a client certificate with TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH`;
  }
  if (PERMISSION_DENIED.test(text)) {
    return (
      `${at} refused these credentials on namespace ${target.namespace} (PERMISSION_DENIED): ` +
      `use an API key or certificate allowed on it, or check TEMPORAL_NAMESPACE`
    );
  }
  return null;
}

const V1_MESSAGE =
  "the client certificate is X.509 v1, which the worker's TLS stack refuses: re-issue it as v3 (openssl x509 -req … -extfile with basicConstraints/keyUsage)";

/**
 * Refuses an X.509 v1 client certificate before any connection. The worker's rustls rejects one
 * (UnsupportedCertVersion) while the clients' OpenSSL sends it, so the CLI would work and the
 * worker would not with the very same settings; both refuse it, with the same line.
 */
export function checkClientCertificate(target: TemporalTarget): void {
  const crt = tlsSettings(target)?.clientCertPair?.crt;
  if (!crt) return;
  let der: Buffer;
  try {
    der = new X509Certificate(crt).raw;
  } catch {
    // Not a certificate Node can read: leave the message to the TLS stack that loads it.
    return;
  }
  if (isVersion1(der)) throw new CredentialsRefusedError(V1_MESSAGE);
}

/**
 * A v1 certificate omits TBSCertificate's optional `[0] EXPLICIT version` field, so the first
 * element inside it is the serial number (INTEGER, 0x02) instead of the 0xa0 tag.
 */
function isVersion1(der: Buffer): boolean {
  const skipHeader = (offset: number): number => {
    const lengthByte = der[offset + 1] ?? 0;
    return offset + 2 + (lengthByte & 0x80 ? lengthByte & 0x7f : 0);
  };
  const tbs = skipHeader(0);
  const first = skipHeader(tbs);
  return der[first] !== 0xa0;
}
