// Entry point of the `agentkernel-gateway` command (the esbuild bundle and bin/ both start here).
import { main } from './cli.js';

await main();
