// loadConfig: every bad value fails with a ConfigError that names the variable; defaults are applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../gateway/src/config.js';

const GOOD = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
  GATEWAY_ADMIN_TOKEN: 'x'.repeat(16),
};

test('a minimal environment gets the documented defaults', () => {
  const c = loadConfig({ ...GOOD });
  assert.equal(c.databaseUrl, GOOD.DATABASE_URL);
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.agentkernelUrl, 'http://127.0.0.1:18888');
  assert.equal(c.agentkernelApiKey, undefined);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.tiersFile, undefined);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.bodyLimitBytes, 10 * 1024 * 1024);
});

test('given values are used, a trailing slash on AGENTKERNEL_URL is dropped', () => {
  const c = loadConfig({
    ...GOOD, REDIS_URL: 'redis://127.0.0.1:6379', AGENTKERNEL_URL: 'https://ak.internal:9000/', AGENTKERNEL_API_KEY: ' k ',
    GATEWAY_HOST: '0.0.0.0', GATEWAY_PORT: '0', GATEWAY_TIERS: '/etc/tiers.yaml', GATEWAY_MAX_IN_FLIGHT: '4',
    GATEWAY_UPSTREAM_TIMEOUT_MS: '500', GATEWAY_LOG_LEVEL: 'debug', GATEWAY_BODY_LIMIT_BYTES: '2048',
  });
  assert.equal(c.agentkernelUrl, 'https://ak.internal:9000');
  assert.equal(c.agentkernelApiKey, 'k');
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 0);
  assert.equal(c.tiersFile, '/etc/tiers.yaml');
  assert.equal(c.maxInFlight, 4);
  assert.equal(c.upstreamTimeoutMs, 500);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.bodyLimitBytes, 2048);
});

const BAD: [string, Record<string, string | undefined>, RegExp][] = [
  ['DATABASE_URL', { DATABASE_URL: undefined }, /is required/],
  ['DATABASE_URL', { DATABASE_URL: '   ' }, /is required/],
  ['DATABASE_URL', { DATABASE_URL: 'not a url' }, /not a valid URL/],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://h/db' }, /must use postgres: or postgresql:/],
  ['GATEWAY_ADMIN_TOKEN', { GATEWAY_ADMIN_TOKEN: undefined }, /is required/],
  ['GATEWAY_ADMIN_TOKEN', { GATEWAY_ADMIN_TOKEN: 'short' }, /at least 16/],
  // A Bearer token is one run of visible ASCII: a token with a space could never be sent.
  ['GATEWAY_ADMIN_TOKEN', { GATEWAY_ADMIN_TOKEN: 'my very secret admin token' }, /printable ASCII without spaces/],
  ['GATEWAY_ADMIN_TOKEN', { GATEWAY_ADMIN_TOKEN: 'geheimnis-schlüssel-123' }, /printable ASCII without spaces/],
  ['REDIS_URL', { REDIS_URL: 'http://127.0.0.1:6379' }, /must use redis: or rediss:/],
  ['REDIS_URL', { REDIS_URL: '::' }, /not a valid URL/],
  ['AGENTKERNEL_URL', { AGENTKERNEL_URL: 'ftp://x' }, /must use http: or https:/],
  ['AGENTKERNEL_URL', { AGENTKERNEL_URL: 'localhost 18888' }, /not a valid URL/],
  // Only the origin is used for upstream calls: a path would be silently dropped, so it is refused.
  ['AGENTKERNEL_URL', { AGENTKERNEL_URL: 'http://127.0.0.1:8000/agentkernel' }, /no path/],
  ['AGENTKERNEL_URL', { AGENTKERNEL_URL: 'http://127.0.0.1:8000/?x=1' }, /no path/],
  ['GATEWAY_PORT', { GATEWAY_PORT: 'eighty' }, /whole number/],
  ['GATEWAY_PORT', { GATEWAY_PORT: '65536' }, /between 0 and 65535/],
  ['GATEWAY_PORT', { GATEWAY_PORT: '-1' }, /whole number/],
  ['GATEWAY_PORT', { GATEWAY_PORT: '80.5' }, /whole number/],
  ['GATEWAY_MAX_IN_FLIGHT', { GATEWAY_MAX_IN_FLIGHT: '0' }, /between 1 and/],
  ['GATEWAY_QUEUE_TIMEOUT_MS', { GATEWAY_QUEUE_TIMEOUT_MS: 'soon' }, /whole number/],
  ['GATEWAY_UPSTREAM_TIMEOUT_MS', { GATEWAY_UPSTREAM_TIMEOUT_MS: '99' }, /between 100 and/],
  ['GATEWAY_REAPER_INTERVAL_MS', { GATEWAY_REAPER_INTERVAL_MS: '1e3' }, /whole number/],
  ['GATEWAY_BODY_LIMIT_BYTES', { GATEWAY_BODY_LIMIT_BYTES: '10' }, /between 1024 and/],
  ['GATEWAY_LOG_LEVEL', { GATEWAY_LOG_LEVEL: 'verbose' }, /must be one of/],
];

for (const [variable, change, message] of BAD) {
  test(`${variable}=${JSON.stringify(Object.values(change)[0])} fails naming ${variable}`, () => {
    const env: Record<string, string | undefined> = { ...GOOD, ...change };
    assert.throws(() => loadConfig(env), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.variable, variable);
      assert.ok(e.message.startsWith(`${variable}: `), e.message);
      assert.match(e.message, message);
      return true;
    });
  });
}

test('a bad value never echoes a secret it might contain', () => {
  // The admin token is the only secret loadConfig rejects on its own; its message must not quote it.
  const token = 'tooshort-secret';
  assert.throws(() => loadConfig({ ...GOOD, GATEWAY_ADMIN_TOKEN: token }), (e: Error) => !e.message.includes(token));
});
