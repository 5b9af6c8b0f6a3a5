/**
 * The bench's timeline (`--timeline`): pg_stat_activity of the source and target databases sampled
 * every 100 ms while a tool runs, summarised as what ran when — each activity's first and last
 * sample (COPY, CREATE INDEX, ALTER TABLE …, ANALYZE, count), with its wait events — and the number
 * of active sessions per second on either side, which shows the critical path and the idle time.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

interface Sample {
  ms: number;
  db: string;
  app: string;
  wait: string;
  what: string;
}

export interface Timeline {
  stop(): Promise<string>;
}

/** A short name for a statement: its verb and the table it works on. */
export function activityName(query: string): string {
  const s = query.replace(/\s+/g, ' ').trim();
  const idx = /^CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(IF NOT EXISTS )?("?[\w.]+"?)? ?ON (ONLY )?("?[\w."]+)/i.exec(s);
  if (idx) return `CREATE INDEX ${idx[4] ?? ''} ON ${idx[6]}`.replace(/\s+/g, ' ');
  const alter =
    /^ALTER TABLE (ONLY )?([\w."]+) (ADD CONSTRAINT [\w"]+ \w+( KEY)?|VALIDATE CONSTRAINT [\w"]+|\w+ \w+)/i.exec(s);
  if (alter) return `ALTER TABLE ${alter[2]} ${alter[3]}`;
  const copy = /^COPY ([\w."]+|\(SELECT .*? FROM ([\w."]+))/i.exec(s);
  if (copy) return `COPY ${copy[2] ?? copy[1]}`;
  const an = /^(VACUUM )?(ANALYZE|VACUUM) ([\w."]+)/i.exec(s);
  if (an) return `${(an[1] ?? '') + an[2]} ${an[3]}`;
  if (/count\(\*\)/i.test(s)) return `count ${/FROM ([\w."]+)/i.exec(s)?.[1] ?? ''}`;
  return s.slice(0, 50);
}

/** Busy and idle CPU ticks of the whole machine so far (Linux /proc/stat), or undefined elsewhere. */
function cpuTicks(): { busy: number; idle: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + f[4];
    return { busy: f.slice(0, 8).reduce((a, b) => a + b, 0) - idle, idle };
  } catch {
    return undefined;
  }
}

export function startTimeline(url: string, source: string, target: string): Timeline {
  const samples: Sample[] = [];
  const ticks: number[] = [];
  // the machine's idle share per second: where neither server nor tool had work for the cores
  const cpu: ({ busy: number; idle: number } | undefined)[] = [cpuTicks()];
  const cpuTimer = setInterval(() => cpu.push(cpuTicks()), 1000);
  const t0 = Date.now();
  let stopped = false;
  const c = new pg.Client({ connectionString: url });
  const loop = (async () => {
    await c.connect();
    while (!stopped) {
      const r = await c.query<{ db: string; app: string; wait: string | null; query: string }>(
        `SELECT datname AS db, application_name AS app, wait_event_type || ':' || wait_event AS wait, query
           FROM pg_stat_activity
          WHERE datname = ANY($1) AND state = 'active' AND pid <> pg_backend_pid()`,
        [[source, target]],
      );
      const ms = Date.now() - t0;
      ticks.push(ms);
      for (const x of r.rows)
        samples.push({ ms, db: x.db, app: x.app, wait: x.wait ?? 'CPU', what: activityName(x.query) });
      await new Promise((res) => setTimeout(res, 100));
    }
    await c.end();
  })();
  return {
    async stop() {
      stopped = true;
      clearInterval(cpuTimer);
      cpu.push(cpuTicks());
      await loop.catch(() => {});
      return summarise(samples, ticks, source, target, Date.now() - t0, idleShares(cpu));
    },
  };
}

/** Idle % of the machine's CPU in each interval between readings. */
function idleShares(cpu: ({ busy: number; idle: number } | undefined)[]): string | undefined {
  const out: string[] = [];
  for (let i = 1; i < cpu.length; i++) {
    const [a, b] = [cpu[i - 1], cpu[i]];
    if (!a || !b) return undefined;
    const idle = b.idle - a.idle;
    const all = idle + b.busy - a.busy;
    out.push(all > 0 ? `${Math.round((100 * idle) / all)}%` : '-');
  }
  return out.join(' ');
}

function summarise(
  samples: Sample[],
  ticks: number[],
  source: string,
  target: string,
  totalMs: number,
  idle?: string,
): string {
  const acts = new Map<string, { first: number; last: number; n: number; waits: Map<string, number> }>();
  for (const s of samples) {
    const key = `${s.db === source ? 'src' : 'tgt'} ${s.what}`;
    let a = acts.get(key);
    if (!a) acts.set(key, (a = { first: s.ms, last: s.ms, n: 0, waits: new Map() }));
    a.last = s.ms;
    a.n++;
    a.waits.set(s.wait, (a.waits.get(s.wait) ?? 0) + 1);
  }
  const lines = [...acts.entries()]
    .sort((x, y) => x[1].first - y[1].first)
    .map(([k, a]) => {
      const w = [...a.waits.entries()]
        .sort((x, y) => y[1] - x[1])
        .slice(0, 3)
        .map(([n, c]) => `${n} ${Math.round((100 * c) / a.n)}%`)
        .join(', ');
      return `  ${(a.first / 1000).toFixed(1).padStart(5)}–${(a.last / 1000).toFixed(1).padEnd(5)} ${k.slice(0, 70).padEnd(70)} ${w}`;
    });
  // active sessions per second and side
  const secs = Math.ceil(totalMs / 1000);
  const per = (db: string) => {
    const out: string[] = [];
    for (let i = 0; i < secs; i++) {
      const inSec = samples.filter((s) => s.db === db && s.ms >= i * 1000 && s.ms < (i + 1) * 1000);
      const n = ticks.filter((t) => t >= i * 1000 && t < (i + 1) * 1000).length || 1;
      out.push((inSec.length / n).toFixed(1));
    }
    return out.join(' ');
  };
  return [
    `timeline (${(totalMs / 1000).toFixed(1)} s):`,
    ...lines,
    `  active sessions per second, source: ${per(source)}`,
    `  active sessions per second, target: ${per(target)}`,
    ...(idle ? [`  machine CPU idle per second:        ${idle}`] : []),
  ].join('\n');
}
