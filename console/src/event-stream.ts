/**
 * Server-Sent Events read with fetch() instead of EventSource, which cannot send headers: the API
 * token goes in the Authorization header, never in a URL. Like EventSource it parses the stream
 * (id, event, data; comments skipped), reconnects after a drop and sends the last id it saw as
 * Last-Event-ID, so the server replays from there; it stops for good on a 401 (the console then
 * asks for the token) or when closed.
 */
import { authFetch } from './api';
import { parseBlocks, type StreamMessage } from './sse-parse';

export type { StreamMessage };

export interface StreamHandlers {
  onMessage(m: StreamMessage): void;
  onOpen?(): void;
  onError?(): void;
}

const RECONNECT_MS = 2000;

/** Follow the stream at `path` until the returned function is called. */
export function followStream(path: string, h: StreamHandlers): () => void {
  const ac = new AbortController();
  const last = { id: '' };
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async () => {
    if (closed) return;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (last.id) headers['last-event-id'] = last.id;
      const res = await authFetch(path, { headers, signal: ac.signal, cache: 'no-store' });
      if (res.status === 401) {
        h.onError?.();
        return; // no retry with a token the server refuses
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      h.onOpen?.();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf = parseBlocks(buf + value, last, h.onMessage);
      }
      throw new Error('the stream ended');
    } catch {
      if (closed) return;
      h.onError?.();
      timer = setTimeout(run, RECONNECT_MS);
    }
  };
  void run();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    ac.abort();
  };
}
