// A TaskStore that hands every call to a real store and keeps the update patches, in order, so a
// test can read the record's history (the real store keeps only its latest state).
import type { Lease, LeaseHolder, TaskInit, TaskPatch, TaskRecord, TaskStore } from '../../src/state/store.js';

export class RecordingStore implements TaskStore {
  readonly patches: TaskPatch[] = [];
  constructor(readonly inner: TaskStore) {}
  list(): Promise<TaskRecord[]> {
    return this.inner.list();
  }
  get(id: string): Promise<TaskRecord | undefined> {
    return this.inner.get(id);
  }
  create(id: string, init: TaskInit): Promise<TaskRecord> {
    return this.inner.create(id, init);
  }
  async update(id: string, patch: TaskPatch, lease?: Lease): Promise<TaskRecord> {
    const r = await this.inner.update(id, patch, lease);
    this.patches.push(patch);
    return r;
  }
  lease(id: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    return this.inner.lease(id, holder, ttlMs);
  }
  renew(lease: Lease, ttlMs: number): Promise<Lease> {
    return this.inner.renew(lease, ttlMs);
  }
  release(lease: Lease): Promise<void> {
    return this.inner.release(lease);
  }
  currentLease(id: string): Promise<LeaseHolder | undefined> {
    return this.inner.currentLease(id);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
