import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createDatabase } from '../support/postgres-server.js';

test('the runner provides a real PostgreSQL server', async () => {
  const url = await createDatabase(process.env.TEST_DATABASE_URL!);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query('SELECT version()');
  await c.end();
  assert.match(rows[0].version, /PostgreSQL/);
});
