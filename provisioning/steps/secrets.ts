// Step "secrets": keeps /etc/agentkernel-saas/secrets.env (0600). Per secret: the value the executor
// passes as AKS_<NAME> (Pulumi's random passwords), else the one already on the host, else a new one.
// So re-runs are stable and no secret value is ever part of the plan.
import { stepScript, shq } from '../bash.js';
import { HOST } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';
import { SECRET_NAMES } from '../templates/env-files.js';

export function secretsStep(ctx: StepContext): StepDefinition {
  const generated = [...SECRET_NAMES];
  // The S3 secret key cannot be generated: it must come from the operator (secret config key).
  const provided = ctx.config.backups.s3 ? ['BACKUP_S3_SECRET_KEY'] : [];
  return {
    id: 'secrets',
    name: 'Secrets',
    files: [],
    environment: [...generated, ...provided].map((n) => `AKS_${n}`),
    script: stepScript(`
install -d -m 0755 ${HOST.configDir}
f=${HOST.secretsEnv}
tmp=$(mktemp "$f.XXXXXX")
keep_or_make() { # NAME GENERATE(yes|no)
  local given_var="AKS_$1" value
  value="\${!given_var:-}"
  [ -n "$value" ] || value=$(sed -n "s/^$1=//p" "$f" 2>/dev/null || true)
  if [ -z "$value" ]; then
    [ "$2" = yes ] || { rm -f "$tmp"; aks_log "secret $1 is not on the host and was not given (set AKS_$1)"; exit 1; }
    value=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')
  fi
  case "$value" in *[[:space:]]*) rm -f "$tmp"; aks_log "secret $1 contains whitespace"; exit 1;; esac
  printf '%s=%s\\n' "$1" "$value" >> "$tmp"
}
${generated.map((n) => `keep_or_make ${shq(n)} yes`).join('\n')}
${provided.map((n) => `keep_or_make ${shq(n)} no`).join('\n')}
aks_install_file "$tmp" "$f" 0600 root:root
`),
  };
}
