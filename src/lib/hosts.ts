/**
 * Host names as the Node-side servers and the dev stack judge them: which ones are loopback, how
 * one stands in a URL, and whether a request's Host header names loopback (no DNS rebinding).
 */
import type { IncomingMessage } from 'node:http';

/** Only a loopback address can be served by a dev server started here, or kept from other machines. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host as a URL writes it: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Whether the request's Host header names a loopback host: a web page elsewhere that rebinds its
 * own DNS name to 127.0.0.1 sends its own name, and is refused by a server bound to loopback.
 */
export function hostHeaderIsLoopback(request: IncomingMessage): boolean {
  const header = request.headers.host ?? '';
  const hostname = /^(\[[^\]]+\]|[^:]+)/.exec(header)?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? '';
  return isLoopback(hostname);
}
