// Child process: the gateway as `agentkernel-gateway serve` runs it (config from the environment,
// PostgreSQL, Redis rate limits), on an ephemeral port.
import { loadConfig } from '../gateway/src/config.js';
import { startGateway } from '../gateway/src/server.js';
import { serveAsChild } from './child-process.js';

serveAsChild(() => startGateway(loadConfig(process.env)));
