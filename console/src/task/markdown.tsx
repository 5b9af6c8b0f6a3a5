/**
 * The report's markdown as elements (never as HTML text, so nothing in a report can inject markup):
 * headings, paragraphs, lists (bulleted and numbered), tables, code blocks, `code` and **bold** —
 * what report.md uses.
 */
import type { ComponentChildren, VNode } from 'preact';

function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*/g;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(m[1] !== undefined ? <code>{m[1]}</code> : <strong>{m[2]}</strong>);
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));

function table(lines: string[], key: number): VNode {
  const [head, , ...rows] = lines;
  return (
    <div class="table-scroll" key={key}>
      <table>
        <thead>
          <tr>
            {cells(head).map((c, i) => (
              <th scope="col" key={i}>
                {inline(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {cells(r).map((c, j) => (
                <td key={j}>{inline(c)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Take lines from i while pred holds. */
function run(lines: string[], i: number, pred: (l: string) => boolean): string[] {
  const out: string[] = [];
  while (i + out.length < lines.length && pred(lines[i + out.length])) out.push(lines[i + out.length]);
  return out;
}

export function Markdown({ text }: { text: string }) {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: VNode[] = [];
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (line.startsWith('```')) {
      const body = run(lines, i + 1, (l) => !l.startsWith('```'));
      blocks.push(<pre key={i}>{body.join('\n')}</pre>);
      i += body.length + 2;
    } else if (h) {
      // the report's own levels move under the page's h2 "Report"
      const level = Math.min(6, h[1].length + 2);
      const Tag = `h${level}` as 'h3';
      blocks.push(<Tag key={i}>{inline(h[2])}</Tag>);
      i++;
    } else if (line.trim().startsWith('|')) {
      const t = run(lines, i, (l) => l.trim().startsWith('|'));
      blocks.push(table(t, i));
      i += t.length;
    } else if (/^\s*\d+\.\s+/.test(line)) {
      const items = run(lines, i, (l) => /^\s*\d+\.\s+/.test(l));
      blocks.push(
        <ol key={i}>
          {items.map((l, j) => (
            <li key={j}>{inline(l.replace(/^\s*\d+\.\s+/, ''))}</li>
          ))}
        </ol>,
      );
      i += items.length;
    } else if (/^\s*[-*]\s+/.test(line)) {
      const items = run(lines, i, (l) => /^\s*[-*]\s+/.test(l));
      blocks.push(
        <ul key={i}>
          {items.map((l, j) => (
            <li key={j}>{inline(l.replace(/^\s*[-*]\s+/, ''))}</li>
          ))}
        </ul>,
      );
      i += items.length;
    } else if (line.trim() === '') {
      i++;
    } else {
      const para = run(lines, i, (l) => l.trim() !== '' && !/^(#|```|\||\s*[-*]\s|\s*\d+\.\s)/.test(l));
      blocks.push(<p key={i}>{inline(para.join(' '))}</p>);
      i += Math.max(1, para.length);
    }
  }
  return <div class="markdown">{blocks}</div>;
}
