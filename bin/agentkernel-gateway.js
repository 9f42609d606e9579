#!/usr/bin/env node
// Runs the gateway CLI from source (TypeScript via tsx). Deployed hosts run the esbuild bundle instead.
import { register } from 'tsx/esm/api';
register();
await import('../gateway/src/main.ts');
