/** Hash routing: #/ (task list), #/new (wizard), #/tasks/<id> (task page). */
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'list' } | { page: 'new' } | { page: 'task'; id: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/new') return { page: 'new' };
  const m = /^\/tasks\/(.+)$/.exec(path);
  if (m) return { page: 'task', id: decodeURIComponent(m[1]) };
  return { page: 'list' };
}

export const taskHref = (id: string) => `#/tasks/${encodeURIComponent(id)}`;

export function navigate(hash: string): void {
  location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
