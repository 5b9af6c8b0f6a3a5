/**
 * What the service listens with: node:http, or node:https when a certificate and key are given
 * (--tls-cert/--tls-key), and whether a listen address stays on this machine (loopback).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { PgferryError } from '../core/errors.js';

/** PEM files: the certificate (chain) and its private key. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** Read a PEM file of --tls-cert/--tls-key, with a clear error when it cannot be. */
function pemFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new PgferryError('usage', `cannot read the TLS ${what} ${path}: ${(e as Error).message}`, {
      hint: `give --tls-${what === 'certificate' ? 'cert' : 'key'} a PEM file this user can read`,
    });
  }
}

/** node:http, or node:https with the certificate and key given. */
export function makeServer(tls: TlsFiles | undefined, handler: RequestListener): Server {
  if (!tls) return createServer(handler);
  const cert = pemFile(tls.cert, 'certificate');
  const key = pemFile(tls.key, 'key');
  try {
    return createTlsServer({ cert, key }, handler) as unknown as Server;
  } catch (e) {
    throw new PgferryError('usage', `the TLS certificate or key cannot be used: ${(e as Error).message}`, {
      hint: 'give --tls-cert the PEM certificate (chain) and --tls-key its unencrypted PEM private key',
    });
  }
}
