#!/usr/bin/env node
// The operator CLI (provisioning/cli.ts) run from source: TypeScript via tsx's loader API.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../provisioning/cli.ts');
await main();
