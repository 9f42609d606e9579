// systemd unit files, rendered from a typed model (sections -> keys -> one value or several lines).
import { HOST, UNITS } from '../host-layout.js';

type Value = string | number | boolean | readonly string[];
export interface UnitFile {
  comment: string;
  Unit: Record<string, Value>;
  Service?: Record<string, Value>;
  Timer?: Record<string, Value>;
  Install?: Record<string, Value>;
}

function renderValue(v: Exclude<Value, readonly string[]>): string {
  return typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
}

export function renderUnit(unit: UnitFile): string {
  const lines = unit.comment.split('\n').map((l) => `# ${l}`.trimEnd());
  lines.push('# Managed by agentkernel-saas provisioning: local edits are overwritten.');
  for (const section of ['Unit', 'Service', 'Timer', 'Install'] as const) {
    const body = unit[section];
    if (!body) continue;
    lines.push('', `[${section}]`);
    for (const [key, v] of Object.entries(body)) {
      // An array means the key repeats (ExecStartPre=, Environment=, ...), in order.
      for (const one of Array.isArray(v) ? v : [v]) lines.push(`${key}=${renderValue(one as Exclude<Value, readonly string[]>)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

// Hardening for the internet-facing gateway: it needs the network and nothing else of the host.
// (No MemoryDenyWriteExecute: V8's JIT needs writable+executable memory.)
const SANDBOXED_SERVICE = {
  NoNewPrivileges: true,
  ProtectSystem: 'strict',
  ProtectHome: true,
  PrivateTmp: true,
  PrivateDevices: true,
  ProtectKernelTunables: true,
  ProtectKernelModules: true,
  ProtectKernelLogs: true,
  ProtectControlGroups: true,
  ProtectClock: true,
  ProtectHostname: true,
  RestrictNamespaces: true,
  RestrictRealtime: true,
  RestrictSUIDSGID: true,
  LockPersonality: true,
  RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
  CapabilityBoundingSet: '',
  SystemCallArchitectures: 'native',
  UMask: '0077',
} as const;

// systemd stops restarting a unit after 5 starts in 10 s. At boot PostgreSQL's umbrella unit is
// "active" before the cluster accepts connections, so the gateway may fail a few times first, and a
// deploy or restore right after would then be refused ("start-limit-hit"): never give up instead
// (RestartSec keeps the retries slow).
const KEEP_RESTARTING = { StartLimitIntervalSec: 0 } as const;

export interface GatewayUnitInput { nodeBin: string; port: number }
export function gatewayUnit(i: GatewayUnitInput): UnitFile {
  return {
    comment: 'agentkernel-saas metering gateway: API keys, tenants, quotas, usage, in front of agentkernel.\nRuns the release that the `current` symlink points to; rollback = switch symlink + restart.',
    Unit: {
      Description: 'agentkernel-saas gateway',
      // Wants (not Requires): a PostgreSQL restart must not stop the gateway; /ready reports it.
      Wants: `network-online.target ${UNITS.postgres} ${UNITS.redis} ${UNITS.agentkernelApi}`,
      After: `network-online.target ${UNITS.postgres} ${UNITS.redis} ${UNITS.agentkernelApi}`,
      ...KEEP_RESTARTING,
    },
    Service: {
      Type: 'simple',
      User: HOST.gatewayUser,
      Group: HOST.gatewayUser,
      EnvironmentFile: HOST.gatewayEnv,
      WorkingDirectory: HOST.gatewayCurrent,
      ExecStart: `${i.nodeBin} ${HOST.gatewayCurrent}/${HOST.gatewayBundleFile} serve`,
      // The unit is "started" only once /health answers: `systemctl start|restart` (deploys, restore,
      // boot ordering) wait for a gateway that really serves, and fail when it never does.
      ExecStartPost: `${HOST.waitHealthyTool} http://127.0.0.1:${i.port}/health $MAINPID`,
      TimeoutStartSec: 90,
      Restart: 'on-failure',
      RestartSec: 2,
      // It is stateless (PostgreSQL and Redis hold the state), so no ReadWritePaths at all.
      ...SANDBOXED_SERVICE,
    },
    Install: { WantedBy: 'multi-user.target' },
  };
}

export function agentkernelApiUnit(): UnitFile {
  return {
    comment:
      "agentkernel's HTTP API on loopback; only the gateway talks to it, with the one upstream key.\n" +
      'Runs as root: its container backend drives rootful podman and its Firecracker backend needs KVM\n' +
      'and tap devices. Tenants never reach it directly (loopback bind + firewall + gateway policy).',
    Unit: {
      Description: 'agentkernel HTTP API (127.0.0.1)',
      Wants: 'network-online.target',
      After: `network-online.target ${UNITS.agentkernelDaemon}`,
      ...KEEP_RESTARTING,
    },
    Service: {
      Type: 'simple',
      // agentkernel keeps its state under $HOME/.agentkernel. On cgroup-v1 hosts podman prints a
      // deprecation warning on every call, which agentkernel appends to tenants' command output.
      Environment: `HOME=${HOST.agentkernelHome} PODMAN_IGNORE_CGROUPSV1_WARNING=1`,
      EnvironmentFile: HOST.agentkernelEnv,
      WorkingDirectory: HOST.agentkernelHome,
      ExecStart: `${HOST.agentkernelBin} serve --host 127.0.0.1 --port ${HOST.agentkernelPort}`,
      Restart: 'on-failure',
      RestartSec: 2,
      PrivateTmp: true,
      ProtectHome: true,
    },
    Install: { WantedBy: 'multi-user.target' },
  };
}

export function agentkernelDaemonUnit(): UnitFile {
  return {
    comment:
      "agentkernel's daemon: a warm pool of Firecracker microVMs. It refuses to start without KVM, so it\n" +
      'is only enabled when preflight chose the firecracker backend (the condition keeps it quiet elsewhere).',
    Unit: {
      Description: 'agentkernel daemon (warm VM pool)',
      ConditionPathExists: '/dev/kvm',
      After: 'network-online.target',
      Wants: 'network-online.target',
      ...KEEP_RESTARTING,
    },
    Service: {
      Type: 'simple',
      Environment: `HOME=${HOST.agentkernelHome}`,
      WorkingDirectory: HOST.agentkernelHome,
      ExecStart: `${HOST.agentkernelBin} daemon start`,
      Restart: 'on-failure',
      RestartSec: 5,
      PrivateTmp: true,
      ProtectHome: true,
    },
    Install: { WantedBy: 'multi-user.target' },
  };
}

export interface FirewallUnitInput { nftBin: string }
export function firewallUnit(i: FirewallUnitInput): UnitFile {
  return {
    comment:
      'Inbound firewall: loads only our own nftables table, so rules of other tools (podman, an\n' +
      "operator's own nftables.conf) are left alone. Loaded before the network comes up.",
    Unit: {
      Description: 'agentkernel-saas inbound firewall (nftables)',
      DefaultDependencies: false,
      Wants: 'network-pre.target',
      Before: 'network-pre.target shutdown.target',
      Conflicts: 'shutdown.target',
    },
    Service: {
      Type: 'oneshot',
      RemainAfterExit: true,
      StandardInput: 'null',
      // The file deletes and re-creates the table itself, so start and reload are the same.
      ExecStart: `${i.nftBin} -f ${HOST.firewallRuleset}`,
      ExecReload: `${i.nftBin} -f ${HOST.firewallRuleset}`,
      ExecStop: `${i.nftBin} delete table inet ${HOST.firewallTable}`,
    },
    Install: { WantedBy: 'sysinit.target' },
  };
}

export function backupService(): UnitFile {
  return {
    comment: 'Daily pg_dump of the gateway database into a retention-managed folder (optionally pushed to S3).',
    Unit: { Description: 'agentkernel-saas database backup', After: UNITS.postgres, Wants: UNITS.postgres },
    Service: { Type: 'oneshot', ExecStart: HOST.backupTool, Nice: 10, IOSchedulingClass: 'idle' },
  };
}

export function backupTimer(): UnitFile {
  return {
    comment: 'Runs the backup daily; Persistent catches up a run missed while the box was off.',
    Unit: { Description: 'Daily agentkernel-saas database backup' },
    Timer: { OnCalendar: 'daily', Persistent: true, RandomizedDelaySec: '30min', Unit: UNITS.backupService },
    Install: { WantedBy: 'timers.target' },
  };
}

export function healthService(): UnitFile {
  return {
    comment: 'Health check: fails (and so shows in `systemctl --failed` and the journal) when a unit is down\nor a port/endpoint check fails; `agentkernel-saas verify` runs the same tool.',
    Unit: { Description: 'agentkernel-saas health check' },
    Service: { Type: 'oneshot', ExecStart: `${HOST.healthTool} --quiet` },
  };
}

export function healthTimer(): UnitFile {
  return {
    comment: 'Runs the health check every 5 minutes.',
    Unit: { Description: 'Periodic agentkernel-saas health check' },
    Timer: { OnBootSec: '2min', OnUnitActiveSec: '5min', Unit: UNITS.healthService },
    Install: { WantedBy: 'timers.target' },
  };
}
