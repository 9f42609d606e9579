// Step "postgres-redis": PostgreSQL (database + role, scram password from the secrets file, loopback
// only) and Redis (loopback, requirepass, bounded memory), both from Debian's packages.
import { stepScript } from '../bash.js';
import { HOST, UNITS } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';
import { renderPostgresConf, renderRedisConf } from '../templates/database-config.js';

export const REDIS_MAX_MEMORY_MB = 256;

export function postgresRedisStep(_ctx: StepContext): StepDefinition {
  return {
    id: 'postgres-redis',
    name: 'PostgreSQL and Redis',
    files: [
      { path: HOST.postgresConf, content: renderPostgresConf(), mode: '0644', owner: 'root:root' },
      { path: HOST.redisConf, content: renderRedisConf({ maxMemoryMb: REDIS_MAX_MEMORY_MB }), mode: '0644', owner: 'root:root' },
    ],
    script: stepScript(`
aks_pkgs postgresql redis-server
# --- PostgreSQL: our settings go into the newest cluster's conf.d (the version is Debian's choice).
ver=$(ls /etc/postgresql | sort -V | tail -1)
[ -n "$ver" ] || { aks_log "no PostgreSQL cluster in /etc/postgresql"; exit 1; }
cluster=postgresql@$ver-main.service
link=/etc/postgresql/$ver/main/conf.d/agentkernel-saas.conf
if [ "$(readlink "$link" || true)" != ${HOST.postgresConf} ]; then ln -sfn ${HOST.postgresConf} "$link"; aks_changed "linked $link"; fi
# listen_addresses only takes effect on restart.
aks_on_change postgres-conf ${HOST.postgresConf} -- systemctl restart "$cluster"
aks_enable_now ${UNITS.postgres} "$cluster"
for i in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p ${HOST.postgresPort} && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 -p ${HOST.postgresPort} || { aks_log "PostgreSQL does not accept connections"; exit 1; }
psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
pw=$(aks_secret POSTGRES_PASSWORD)
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '${HOST.databaseRole}'")" != 1 ]; then
  psql_admin -c "CREATE ROLE ${HOST.databaseRole} LOGIN"; aks_changed "created role ${HOST.databaseRole}"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '${HOST.database}'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE ${HOST.database} OWNER ${HOST.databaseRole}"; aks_changed "created database ${HOST.database}"
fi
# The password is set when logging in with it fails (first run, or a rotated secret); it goes in on
# stdin so it never shows in a process list.
if ! PGPASSWORD="$pw" psql -X -q -h 127.0.0.1 -U ${HOST.databaseRole} -d ${HOST.database} -c 'SELECT 1' >/dev/null 2>&1; then
  printf "SET password_encryption = 'scram-sha-256'; ALTER ROLE ${HOST.databaseRole} PASSWORD '%s';\\n" "$pw" | psql_admin
  aks_changed "set the password of ${HOST.databaseRole}"
fi
# --- Redis: settings included at the end of Debian's redis.conf, password in a redis-only file.
grep -qxF 'include ${HOST.redisConf}' /etc/redis/redis.conf || { echo 'include ${HOST.redisConf}' >> /etc/redis/redis.conf; aks_changed "redis.conf includes ${HOST.redisConf}"; }
tmp=$(mktemp ${HOST.redisAuthConf}.XXXXXX)
printf 'requirepass %s\\n' "$(aks_secret REDIS_PASSWORD)" > "$tmp"
aks_install_file "$tmp" ${HOST.redisAuthConf} 0640 root:redis
aks_on_change redis-conf /etc/redis/redis.conf ${HOST.redisConf} ${HOST.redisAuthConf} -- systemctl restart ${UNITS.redis}
aks_enable_now ${UNITS.redis}
for i in $(seq 1 40); do
  [ "$(REDISCLI_AUTH=$(aks_secret REDIS_PASSWORD) redis-cli -h 127.0.0.1 -p ${HOST.redisPort} ping 2>/dev/null)" = PONG ] && exit 0
  sleep 0.5
done
aks_log "Redis does not answer PING with the password"; exit 1
`),
  };
}
