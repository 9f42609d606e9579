// Child process for floor.bench.ts: the least a gateway of this design can do per request — a fastify
// route that makes FLOOR_PG named PostgreSQL round trips, FLOOR_REDIS Redis round trips and (if
// FLOOR_UPSTREAM=1) one upstream call with undici, then answers. No tenants, no validation, no metrics.
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Pool } from 'undici';
import { serveAsChild } from './child-process.js';

const pgTrips = Number(process.env.FLOOR_PG ?? 0);
const redisTrips = Number(process.env.FLOOR_REDIS ?? 0);
const upstream = process.env.FLOOR_UPSTREAM === '1';

serveAsChild(async () => {
  const app = Fastify({ logger: false });
  const up = new Pool(process.env.FLOOR_UPSTREAM_URL!, { connections: 64 });
  const db = new pg.Pool({ connectionString: process.env.FLOOR_DATABASE_URL!, max: 20 });
  const redis = new Redis(process.env.FLOOR_REDIS_URL!);
  const headers = { authorization: `Bearer ${process.env.FLOOR_UPSTREAM_KEY}` };
  app.get('/floor', async () => {
    for (let i = 0; i < pgTrips; i++) await db.query({ name: 'floor', text: 'SELECT $1::int AS n', values: [i] });
    for (let i = 0; i < redisTrips; i++) await redis.get('floor');
    if (!upstream) return { success: true, data: 'ok' };
    const res = await up.request({ method: 'GET', path: '/health', headers });
    return JSON.parse(await res.body.text());
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    async close() {
      await app.close();
      await up.close();
      await db.end();
      redis.disconnect();
    },
  };
});
