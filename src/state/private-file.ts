/** Files of the state dir, private (0600) before their first byte whatever the umask or an earlier mode. */
import { closeSync, fchmodSync, openSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';

/** Write a whole file. */
export async function writePrivate(path: string, data: string): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

/** Replace a file atomically: written aside (under a name of its own), then renamed over it. */
export async function replacePrivate(path: string, data: string): Promise<void> {
  const tmp = `${path}.${randomUUID().slice(0, 8)}.tmp`;
  await writePrivate(tmp, data);
  await rename(tmp, path);
}

/** Create (or make private) a file before anything is written to it. */
export function touchPrivate(path: string): void {
  const fd = openSync(path, 'a', 0o600);
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}
