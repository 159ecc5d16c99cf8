/**
 * How every command reaches Temporal: the worker's env vars (through temporalTarget), `--address` /
 * `--namespace` on top, and one message and exit code when Temporal cannot be reached.
 */
import { connect as tcpConnect } from 'node:net';
import { WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import type { Command } from 'commander';
import { DEFAULT_ADDRESS, connectClient, temporalTarget, type TemporalTarget } from '../client/connection';
import { checkClientCertificate, credentialsProblem } from '../client/connection-errors';
import { tlsHandshakeError } from '../client/tls-probe';
import { EncryptionConfigError } from '../codec/encryption';
import { boundedStatus } from '../client/loops';
import { whyUnanswered } from '../client/unanswered';
import type { LoopStatus } from '../shared/status';
import { messageOf } from '../lib/errors';
import { GrpcStatus, grpcCode, ranOutOfTime } from '../lib/grpc';
import { CliError, ExitCode } from './output';

export interface TemporalOptions {
  address?: string;
  namespace?: string;
}

/** A refused port is refused at once; this only bounds a host that drops packets. */
const PROBE_TIMEOUT_MS = 3_000;
/** A status query is answered by a worker replaying the loop: seconds at most, unless none polls. */
export const QUERY_TIMEOUT_MS = 10_000;
/** An update is validated and applied in one workflow task; the margin covers a busy worker. */
export const UPDATE_TIMEOUT_MS = 30_000;

export function addTemporalOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS, else localhost:7233)')
    .option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE, else default)');
}

export function targetFrom(options: TemporalOptions): TemporalTarget {
  try {
    return temporalTarget({ address: options.address, namespace: options.namespace });
  } catch (err) {
    // A bad MTF_ENCRYPTION_* setting is a configuration error, like a bad flag.
    if (err instanceof EncryptionConfigError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
}

export function addressOf(target: TemporalTarget): string {
  return target.connectionOptions.address ?? DEFAULT_ADDRESS;
}

export function unreachable(target: TemporalTarget, reason: string): CliError {
  return new CliError(
    `cannot reach Temporal at ${addressOf(target)} (namespace ${target.namespace}): ${reason}`,
    ExitCode.TemporalUnreachable,
  );
}

/** The refused-credentials error (exit code CredentialsRefused) for `err`, or null when it is another failure. */
export function refused(target: TemporalTarget, err: unknown): CliError | null {
  const problem = credentialsProblem(err, target);
  return problem === null ? null : new CliError(problem, ExitCode.CredentialsRefused);
}

/**
 * Connects, or throws the "cannot reach Temporal" error, or the refused-credentials one. A plain
 * TCP probe first turns a refused port or an unknown host into a precise reason at once, and a TLS
 * handshake an untrusted or misnamed certificate, where the SDK would retry for 10 s and then only
 * say "Failed to connect before the deadline".
 */
export async function connect(target: TemporalTarget): Promise<Client> {
  try {
    checkClientCertificate(target);
  } catch (err) {
    throw refused(target, err) ?? err;
  }
  await ensureListening(target);
  const handshake = await tlsHandshakeError(target);
  const refusal = handshake && refused(target, handshake);
  if (refusal) throw refusal;
  try {
    return await connectClient(target);
  } catch (err) {
    throw refused(target, err) ?? unreachable(target, messageOf(err));
  }
}

/** Throws the "cannot reach Temporal" error when nothing listens at the address (see {@link connect}). */
export async function ensureListening(target: TemporalTarget): Promise<void> {
  const problem = await tcpProblem(addressOf(target));
  if (problem) throw unreachable(target, problem);
}

/**
 * Runs `work` with a connected client; a Temporal that goes away mid-command, or a namespace it
 * does not know, is reported like an unreachable one.
 */
export async function withClient<T>(options: TemporalOptions, work: (client: Client, target: TemporalTarget) => Promise<T>): Promise<T> {
  const target = targetFrom(options);
  const client = await connect(target);
  try {
    return await work(client, target);
  } catch (err) {
    if (err instanceof NamespaceNotFoundError) throw unreachable(target, `namespace ${target.namespace} not found`);
    // A key or certificate can be refused per call too (a namespace it is not allowed on).
    const refusal = refused(target, err);
    if (refusal) throw refusal;
    if (grpcCode(err) === GrpcStatus.UNAVAILABLE) throw unreachable(target, messageOf(err));
    throw err;
  }
}

/**
 * Runs a query or an update with a deadline: both need a worker polling the loop's task queue,
 * and without one they would wait for ever. `what` names the message for the error line, which
 * says whether the server or the worker failed to answer (see whyUnanswered).
 */
export function answeredWithin<T>(client: Client, target: TemporalTarget, request: AnswerRequest, work: () => Promise<T>): Promise<T> {
  return explained(client, target, request, () => client.connection.withDeadline(Date.now() + request.timeoutMs, work));
}

/** `get_status` under its deadline (client/loops' boundedStatus, the dashboard's too), a missed one explained as above. */
export function statusWithin(
  client: Client,
  workflowId: string,
  target: TemporalTarget,
  timeoutMs = QUERY_TIMEOUT_MS,
): Promise<LoopStatus> {
  return explained(client, target, { workflowId, what: 'get_status', timeoutMs }, () => boundedStatus(client, workflowId, timeoutMs));
}

interface AnswerRequest {
  workflowId: string;
  what: string;
  timeoutMs: number;
}

/** `bounded`, a call already under the request's deadline; a missed deadline becomes the line that says why. */
async function explained<T>(client: Client, target: TemporalTarget, request: AnswerRequest, bounded: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + request.timeoutMs;
  try {
    return await bounded();
  } catch (err) {
    if (!ranOutOfTime(err, deadline) && !(err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw err;
    const why = await whyUnanswered(client, { namespace: target.namespace, workflowId: request.workflowId, taskQueue: target.taskQueue });
    const message = `loop ${request.workflowId} did not answer ${request.what} within ${request.timeoutMs / 1000}s: ${why.reason}`;
    // A server fault is Temporal's, with its exit code: a script can tell it from a missing worker.
    throw why.serverFault ? unreachable(target, message) : new CliError(message, ExitCode.Failure);
  }
}

/**
 * Why nothing listens at `address`, or null when something does (or it cannot be told: a proxy
 * is configured, or the address is not host:port). Only a definite failure is reported.
 */
function tcpProblem(address: string): Promise<string | null> {
  const proxied = ['grpc_proxy', 'https_proxy', 'http_proxy'].some((name) => process.env[name] || process.env[name.toUpperCase()]);
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (proxied || !match?.[1] || !match[2]) return Promise.resolve(null);
  const [host, port] = [match[1], Number(match[2])];
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const finish = (problem: string | null): void => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish(null));
    socket.once('connect', () => finish(null));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const definite = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH'].includes(err.code ?? '');
      finish(definite ? err.message : null);
    });
  });
}
