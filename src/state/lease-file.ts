/**
 * lease.json: the lease of a task in the state-dir store, with the pid and host of the process
 * that claimed it. On that host, a lease whose process is gone (kill -9, a crash) is void at once:
 * the next run need not wait for it to expire, and `status` does not call the task running.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Lease } from './store.js';

export const LEASE_FILE = 'lease.json';

/** The document: the lease, and who claimed it. */
export interface LeaseDocument extends Lease {
  pid?: number;
  host?: string;
  /** When it was claimed or last renewed. */
  renewedAt?: string;
}

export const leaseDocument = (lease: Lease): LeaseDocument => ({
  ...lease,
  pid: process.pid,
  host: hostname(),
  renewedAt: new Date().toISOString(),
});

/** Has the holder gone two thirds of the lease's time without renewing it (a stopped process)? */
export function leaseSilent(doc: LeaseDocument, now = Date.now()): boolean {
  if (!doc.renewedAt) return false;
  const from = Date.parse(doc.renewedAt);
  return now > from + ((Date.parse(doc.expiresAt) - from) * 2) / 3;
}

/** Is the process that holds the lease alive? Unknown (another host, another user's process) counts as alive. */
export function holderAlive(doc: Pick<LeaseDocument, 'pid' | 'host'>): boolean {
  if (doc.host !== hostname() || !Number.isInteger(doc.pid) || (doc.pid ?? 0) <= 0) return true;
  try {
    process.kill(doc.pid as number, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Does the lease keep others out at `now`: unexpired, and its process alive? */
export const leaseLive = (doc: LeaseDocument | undefined, now = Date.now()): doc is LeaseDocument =>
  doc !== undefined && Date.parse(doc.expiresAt) > now && holderAlive(doc);

/** The lease document at `path`, or undefined (none, or unreadable: a lease file is only ever replaced whole). */
export function readLeaseFile(path: string): LeaseDocument | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const doc = JSON.parse(text) as LeaseDocument;
    return typeof doc.token === 'string' && typeof doc.expiresAt === 'string' ? doc : undefined;
  } catch {
    return undefined;
  }
}
