// Child process: the fast in-memory fake agentkernel (test/support), with request recording off so
// its memory stays flat under load. Env: BENCH_UPSTREAM_KEY.
import { startFakeAgentkernel } from '../test/support/fake-agentkernel.js';
import { serveAsChild } from './child-process.js';

serveAsChild(() => startFakeAgentkernel({ apiKey: process.env.BENCH_UPSTREAM_KEY!, record: false }));
