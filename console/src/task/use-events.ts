/**
 * The task's Server-Sent Events: replayed from the start, then live. The stream (event-stream.ts,
 * fetch with the API token) reconnects by itself and sends Last-Event-ID, so the service resumes
 * after the last event seen (no gap, no duplicate).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { followStream, type StreamMessage } from '../event-stream';
import type { ServerEvent } from '../types';

export interface Sample {
  t: number;
  rowsPerSec: number;
  bytesPerSec: number;
}

export interface VerifyRow {
  table: string;
  ok: boolean;
  detail: string;
}

export interface EventView {
  samples: Sample[];
  verify: VerifyRow[];
  /** bumped on events that change the task's detail (phases, tables, end) */
  changes: number;
  connected: boolean;
}

const MAX_SAMPLES = 600;
const TYPES = ['progress', 'verify-result', 'phase-start', 'phase-end', 'table-done', 'task-end', 'retry', 'throttle'];

export function useTaskEvents(id: string): EventView {
  const [view, setView] = useState<EventView>({ samples: [], verify: [], changes: 0, connected: false });
  const lastSeq = useRef(0);
  useEffect(() => {
    lastSeq.current = 0;
    setView({ samples: [], verify: [], changes: 0, connected: false });
    const on = (msg: StreamMessage) => {
      if (!TYPES.includes(msg.event)) return;
      let e: ServerEvent;
      try {
        e = JSON.parse(msg.data);
      } catch {
        return;
      }
      const seq = Number(msg.id || e.seq || 0);
      if (seq && seq <= lastSeq.current) return;
      if (seq) lastSeq.current = seq;
      setView((v) => apply(v, msg.event, e));
    };
    return followStream(`/api/tasks/${encodeURIComponent(id)}/events`, {
      onMessage: on,
      onOpen: () => setView((v) => ({ ...v, connected: true })),
      onError: () => setView((v) => ({ ...v, connected: false })),
    });
  }, [id]);
  return view;
}

function apply(v: EventView, type: string, e: ServerEvent): EventView {
  if (type === 'progress') {
    const t = e.at ? Date.parse(e.at) : Date.now();
    const s = { t, rowsPerSec: Number(e.rowsPerSec) || 0, bytesPerSec: Number(e.bytesPerSec) || 0 };
    return { ...v, samples: [...v.samples, s].slice(-MAX_SAMPLES) };
  }
  if (type === 'verify-result') {
    const row = { table: String(e.table), ok: Boolean(e.ok), detail: String(e.detail ?? '') };
    return { ...v, verify: [...v.verify.filter((r) => r.table !== row.table), row], changes: v.changes + 1 };
  }
  return { ...v, changes: v.changes + 1 };
}
