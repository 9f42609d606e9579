// Bundles the gateway into one ESM file that runs on a host's plain `node` (Debian 13 ships 20.x),
// plus its SQL migrations next to it: dist/gateway/{agentkernel-gateway.mjs,migrations/}.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';

const out = 'dist/gateway';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['gateway/src/main.ts'],
  outfile: `${out}/agentkernel-gateway.mjs`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // pg's optional native binding is never used; CommonJS deps need require() inside an ESM bundle.
  external: ['pg-native'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
cpSync('gateway/migrations', `${out}/migrations`, { recursive: true });
console.log(`built ${out}/agentkernel-gateway.mjs`);
