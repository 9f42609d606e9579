// PostgreSQL and Redis configuration snippets. Secrets (Redis requirepass, the role's password) are
// not here: the steps write them on the host from the secrets file.
import { HOST } from '../host-layout.js';

export function renderPostgresConf(): string {
  return `# Managed by agentkernel-saas provisioning (included from the cluster's conf.d).
# Loopback only: the gateway is on the same host and nothing else may reach the database.
listen_addresses = '127.0.0.1'
port = ${HOST.postgresPort}
# scram for password logins (Debian's pg_hba.conf already uses it for host connections).
password_encryption = 'scram-sha-256'
`;
}

export interface RedisConfInput { maxMemoryMb: number }

export function renderRedisConf(i: RedisConfInput): string {
  return `# Managed by agentkernel-saas provisioning (included at the end of /etc/redis/redis.conf).
# Loopback only ("-" = skip ::1 when the host has no IPv6).
bind 127.0.0.1 -::1
port ${HOST.redisPort}
protected-mode yes
# Redis only holds what may be lost (rate-limit buckets): cap memory, evict keys with a TTL first.
maxmemory ${i.maxMemoryMb}mb
maxmemory-policy volatile-lru
# The password line lives in a root/redis-only file written on the host.
include ${HOST.redisAuthConf}
`;
}
