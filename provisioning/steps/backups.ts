// Step "backups": daily pg_dump timer with retention, optional S3 copy, and the restore tool.
import { stepScript } from '../bash.js';
import { HOST, SYSTEMD_DIR, UNITS } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';
import { renderBackupTool, renderRestoreTool } from '../templates/backup-tools.js';
import { backupService, backupTimer, renderUnit } from '../templates/systemd-units.js';

export function backupsStep(ctx: StepContext): StepDefinition {
  const b = ctx.config.backups;
  const service = `${SYSTEMD_DIR}/${UNITS.backupService}`;
  const timer = `${SYSTEMD_DIR}/${UNITS.backupTimer}`;
  return {
    id: 'backups',
    name: `Backups (daily, keep ${b.keepDays} days${b.s3 ? ', S3 copy' : ''})`,
    files: [
      { path: HOST.backupTool, content: renderBackupTool({ keepDays: b.keepDays, s3: b.s3 }), mode: '0755', owner: 'root:root' },
      { path: HOST.restoreTool, content: renderRestoreTool(), mode: '0755', owner: 'root:root' },
      { path: service, content: renderUnit(backupService()), mode: '0644', owner: 'root:root' },
      { path: timer, content: renderUnit(backupTimer()), mode: '0644', owner: 'root:root' },
    ],
    script: stepScript(`
${b.s3 ? 'aks_pkgs rclone' : '# No S3 target: rclone is not needed.'}
aks_on_change backup-units ${service} ${timer} -- systemctl daemon-reload
aks_enable_now ${UNITS.backupTimer}
`),
  };
}
