// Step "base": packages every later step relies on, unattended security upgrades, the gateway's
// system user, directories, time sync.
import { stepScript } from '../bash.js';
import { HOST } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';

export const BASE_PACKAGES = ['ca-certificates', 'curl', 'iproute2', 'nftables', 'unattended-upgrades', 'util-linux'];
// Installing systemd-timesyncd would make apt remove another time daemon: keep one that is there.
const OTHER_TIME_DAEMONS = ['chrony', 'ntpsec', 'ntp', 'openntpd'];

// Debian's unattended-upgrades defaults to security updates only; these two lines switch it on daily.
const AUTO_UPGRADES = `// Managed by agentkernel-saas provisioning.
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
`;

export function baseStep(_ctx: StepContext): StepDefinition {
  return {
    id: 'base',
    name: 'Base system',
    files: [{ path: '/etc/apt/apt.conf.d/20auto-upgrades', content: AUTO_UPGRADES, mode: '0644', owner: 'root:root' }],
    script: stepScript(`
aks_pkgs ${BASE_PACKAGES.join(' ')}
# The gateway runs as its own unprivileged user with no shell and no home.
if ! id -u ${HOST.gatewayUser} >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin ${HOST.gatewayUser}
  aks_changed "created user ${HOST.gatewayUser}"
fi
ensure_dir() { # PATH MODE OWNER
  if [ ! -d "$1" ] || [ "$(stat -c '%a %U:%G' "$1")" != "$2 $3" ]; then install -d -m "$2" -o "\${3%%:*}" -g "\${3##*:}" "$1"; aks_changed "directory $1"; fi
}
ensure_dir ${HOST.configDir} 755 root:root
ensure_dir ${HOST.stateDir} 755 root:root
ensure_dir ${HOST.stampDir} 700 root:root
ensure_dir ${HOST.uploadDir} 700 root:root
ensure_dir ${HOST.agentkernelHome} 700 root:root
ensure_dir ${HOST.agentkernelPrefix} 755 root:root
ensure_dir ${HOST.gatewayHome} 755 root:root
ensure_dir ${HOST.gatewayReleases} 755 root:root
ensure_dir ${HOST.backupDir} 700 root:root
# Time sync: TLS and token expiry need a right clock. (timesyncd skips itself inside containers.)
if ! { dpkg-query -W -f='\${Status}\\n' ${OTHER_TIME_DAEMONS.join(' ')} 2>/dev/null || true; } | grep -q 'install ok installed'; then
  aks_pkgs systemd-timesyncd
  systemctl is-enabled --quiet systemd-timesyncd || { systemctl enable --now --quiet systemd-timesyncd; aks_changed "enabled systemd-timesyncd"; }
fi
`),
  };
}
