// Host tools for backups: /usr/local/sbin/agentkernel-saas-backup (pg_dump -Fc into the retention-
// managed folder, optional S3 copy with rclone) and agentkernel-saas-restore FILE.
import { shq } from '../bash.js';
import { HOST, UNITS } from '../host-layout.js';

export interface S3Target { endpoint: string; bucket: string; prefix?: string; accessKeyId: string; region?: string }
export interface BackupToolInput { keepDays: number; s3?: S3Target }

// rclone takes a whole remote definition from RCLONE_CONFIG_<NAME>_* variables: no config file to keep.
function s3Copy(s3: S3Target): string {
  const dest = `aks:${s3.bucket}/${(s3.prefix ?? '').replace(/^\/+|\/+$/g, '')}`.replace(/\/$/, '');
  return `
# Copy to S3-compatible storage (the bucket's lifecycle rules decide remote retention).
export RCLONE_CONFIG_AKS_TYPE=s3 RCLONE_CONFIG_AKS_PROVIDER=Other RCLONE_CONFIG_AKS_ENDPOINT=${shq(s3.endpoint)}
export RCLONE_CONFIG_AKS_ACCESS_KEY_ID=${shq(s3.accessKeyId)} RCLONE_CONFIG_AKS_REGION=${shq(s3.region ?? 'us-east-1')}
RCLONE_CONFIG_AKS_SECRET_ACCESS_KEY=$(sed -n 's/^BACKUP_S3_SECRET_KEY=//p' ${HOST.secretsEnv})
export RCLONE_CONFIG_AKS_SECRET_ACCESS_KEY
rclone copyto --s3-no-check-bucket "$out" ${shq(dest)}/"$(basename "$out")" >&2`;
}

export function renderBackupTool(i: BackupToolInput): string {
  return `#!/bin/bash
# Managed by agentkernel-saas provisioning. Prints the path of the new dump.
set -euo pipefail
umask 077
dir=${HOST.backupDir}
out=$dir/${HOST.database}-$(date -u +%Y%m%dT%H%M%SZ).dump
runuser -u postgres -- pg_dump -Fc ${HOST.database} > "$out.partial"
mv "$out.partial" "$out"
# Retention: dumps older than ${i.keepDays} days go (the newest one always stays).
find "$dir" -maxdepth 1 -name '${HOST.database}-*.dump' -mmin +${i.keepDays * 24 * 60} ! -path "$out" -delete
${i.s3 ? s3Copy(i.s3) : '# No S3 target configured: dumps stay on this host only.'}
echo "$out"
`;
}

export function renderRestoreTool(): string {
  return `#!/bin/bash
# Managed by agentkernel-saas provisioning. Usage: agentkernel-saas-restore FILE (a pg_dump -Fc file).
# Replaces the gateway database's contents with the dump; the gateway is stopped meanwhile.
set -euo pipefail
file=\${1:?usage: agentkernel-saas-restore FILE}
[ -f "$file" ] || { echo "restore: $file does not exist" >&2; exit 1; }
runuser -u postgres -- pg_restore --list < "$file" >/dev/null || { echo "restore: $file is not a pg_dump custom-format file" >&2; exit 1; }
started=$(date +%s)
systemctl stop ${UNITS.gateway}
trap 'systemctl start ${UNITS.gateway}' INT TERM HUP
rc=0
runuser -u postgres -- pg_restore --clean --if-exists --single-transaction --exit-on-error -d ${HOST.database} < "$file" || rc=$?
trap - INT TERM HUP
# The gateway comes back either way; its unit only counts as active once /health answers. A failed
# first start is retried by systemd (Restart=on-failure), so what counts is being active within 30 s.
if ! systemctl start ${UNITS.gateway}; then
  back=no
  for _ in $(seq 1 30); do
    systemctl is-active --quiet ${UNITS.gateway} && { back=yes; break; }
    sleep 1
  done
  # Not filtered by unit: journald often cannot attribute the last lines of a process that exited
  # at once to its unit, and those lines say why it did.
  journalctl --since "@$started" -n 60 --no-pager >&2 || true
  if [ $back = no ]; then
    echo "restore: the gateway did not come back after the restore (pg_restore exit $rc)" >&2; exit 1
  fi
  echo "restore: the gateway's first start after the restore failed (log above); systemd restarted it" >&2
fi
[ $rc = 0 ] || { echo "restore: pg_restore failed (exit $rc); the transaction was rolled back, the database is as it was" >&2; exit $rc; }
echo "restored ${HOST.database} from $file"
`;
}
