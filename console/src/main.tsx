/** The pgferry console: page shell (landmarks, skip link, live regions) and hash routes. */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentTokenState, initToken, onTokenState } from './api';
import { bindLiveRegions } from './announce';
import { useRoute } from './router';
import { TaskPage } from './task/task-page';
import { TaskList } from './task-list';
import { TokenPage } from './token-page';
import { Wizard } from './wizard/wizard';

function App() {
  const route = useRoute();
  const polite = useRef<HTMLDivElement>(null);
  const alert = useRef<HTMLDivElement>(null);
  const [token, setTokenState] = useState(currentTokenState);
  useEffect(() => bindLiveRegions(polite.current, alert.current), []);
  useEffect(() => onTokenState(setTokenState), []);
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">pgferry</span>
        <nav aria-label="Main">
          <a href="#/" aria-current={route.page === 'list' ? 'page' : undefined}>
            Tasks
          </a>
          <a href="#/new" aria-current={route.page === 'new' ? 'page' : undefined}>
            New task
          </a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {token !== 'ok' && <TokenPage state={token} />}
        {token === 'ok' && route.page === 'list' && <TaskList />}
        {token === 'ok' && route.page === 'new' && <Wizard />}
        {token === 'ok' && route.page === 'task' && <TaskPage id={route.id} />}
      </main>
      <div class="sr-only" aria-live="polite" role="status" ref={polite} />
      <div class="sr-only" aria-live="assertive" role="alert" ref={alert} />
    </>
  );
}

initToken();
render(<App />, document.getElementById('app')!);
