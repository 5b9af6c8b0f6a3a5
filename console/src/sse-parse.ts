/** The text/event-stream format (id, event, data; comments skipped) parsed as EventSource parses it. */
export interface StreamMessage {
  id: string;
  event: string;
  data: string;
}

/** Parse complete blocks out of `buf`; returns what is left (an incomplete block). */
export function parseBlocks(buf: string, last: { id: string }, emit: (m: StreamMessage) => void): string {
  // a CR at the very end may be the first half of a CRLF: kept for the next read
  const held = buf.endsWith('\r') ? '\r' : '';
  const text = buf.slice(0, buf.length - held.length).replace(/\r\n?/g, '\n');
  let at: number;
  let rest = text;
  while ((at = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, at);
    rest = rest.slice(at + 2);
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) last.id = value;
    }
    if (data.length) emit({ id: last.id, event, data: data.join('\n') });
  }
  return rest + held;
}
