// Pulumi.yaml as the real CLI reads it: the project name is the config namespace, the nodejs runtime
// loads the ESM TypeScript program through `node --import tsx` (Pulumi's own ts-node switched off),
// and the entry point resolves the way Pulumi's nodejs runner resolves a `main` folder of an ESM
// package (index.js, index.mjs, index.ts, ...), with one default export that is the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';

const project = parse(readFileSync('Pulumi.yaml', 'utf8'));

test('project file: name, runtime, main folder, stack folder', () => {
  assert.equal(project.name, 'agentkernel-saas');
  assert.deepEqual(project.runtime, { name: 'nodejs', options: { typescript: false, nodeargs: '--import tsx' } });
  assert.equal(project.main, 'infra/');
  assert.equal(project.stackConfigDir, 'stacks');
  assert.equal(JSON.parse(readFileSync('package.json', 'utf8')).type, 'module', 'Pulumi imports the entry point as ESM');
  const first = ['index.js', 'index.mjs', 'index.ts', 'index.mts'].find((f) => existsSync(join(project.main, f)));
  assert.equal(first, 'index.ts', 'no compiled index.js shadows the TypeScript entry point');
});

test('node with the project nodeargs imports the entry point: one default export, a function', () => {
  const probe = `import(require('node:url').pathToFileURL(${JSON.stringify(join(process.cwd(), project.main, 'index.ts'))}).href)
  .then((m) => console.log(JSON.stringify({ keys: Object.keys(m), type: typeof m.default })))`;
  const r = spawnSync(process.execPath, [...project.runtime.options.nodeargs.split(' '), '-e', probe], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { keys: ['default'], type: 'function' });
});
