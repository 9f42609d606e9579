// Step "preflight": refuses hosts the kit does not support before anything is installed, and records
// the facts later steps act on (chosen agentkernel backend) in host.env.
import { stepScript, shq } from '../bash.js';
import { HOST } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';

export const PREFLIGHT_LIMITS = { minRamMb: 1536, minDiskMb: 8192, arches: ['amd64', 'arm64'] } as const;

export function preflightStep(ctx: StepContext): StepDefinition {
  const c = ctx.config;
  return {
    id: 'preflight',
    name: 'Preflight checks',
    files: [],
    script: stepScript(`
fail() { aks_log "preflight: $*"; exit 1; }
. /etc/os-release
if [ "\${ID:-}" != debian ] || [ "\${VERSION_ID:-}" != 13 ]; then
  if [ ${shq(String(c.allowUnsupportedOs))} = true ]; then aks_log "preflight: WARNING: \${PRETTY_NAME:-unknown OS} is not Debian 13; continuing (allowUnsupportedOs)"
  else fail "\${PRETTY_NAME:-unknown OS} is not supported: this kit targets Debian 13 (trixie). Set agentkernel-saas:allowUnsupportedOs: true to try anyway."; fi
fi
arch=$(dpkg --print-architecture)
case " ${PREFLIGHT_LIMITS.arches.join(' ')} " in *" $arch "*) ;; *) fail "architecture $arch is not supported (${PREFLIGHT_LIMITS.arches.join(', ')})";; esac
ram_mb=$(( $(sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo) / 1024 ))
[ "$ram_mb" -ge ${PREFLIGHT_LIMITS.minRamMb} ] || fail "$ram_mb MB RAM; at least ${PREFLIGHT_LIMITS.minRamMb} MB needed"
disk_mb=$(df --output=avail -BM / | tail -1 | tr -dc 0-9)
[ "$disk_mb" -ge ${PREFLIGHT_LIMITS.minDiskMb} ] || fail "$disk_mb MB free on /; at least ${PREFLIGHT_LIMITS.minDiskMb} MB needed"
# Backend: firecracker needs a usable /dev/kvm; without it sandboxes run as podman containers.
kvm=no; [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && kvm=yes
case ${shq(c.agentkernel.backend)} in
  auto) [ $kvm = yes ] && backend=firecracker || backend=container ;;
  firecracker) [ $kvm = yes ] || fail "backend firecracker needs /dev/kvm, which this host does not have"; backend=firecracker ;;
  container) backend=container ;;
esac
aks_pkgs iproute2
# listener_names PORT: process names listening on a TCP port (empty when free).
listener_names() { ss -Hltnp "sport = :$1" | { grep -o 'users:(("[^"]*"' || true; } | sed 's/users:(("//; s/"$//' | sort -u | tr '\\n' ' '; }
for port in 80 443; do
  who=$(listener_names $port)
  # Our own Caddy from an earlier run may hold them.
  [ -z "$who" ] || [ "$who" = "caddy " ] || fail "port $port is in use by: $who(stop it, or use another host)"
done
# The firewall will only let SSH in on sshPort: make sure sshd really listens there.
case "$(listener_names ${c.sshPort})" in *sshd*|*systemd*) ;; *) fail "sshd does not listen on port ${c.sshPort} (agentkernel-saas:sshPort); the firewall would lock you out";; esac
install -d -m 0755 ${HOST.stateDir}
tmp=$(mktemp ${HOST.hostFacts}.XXXXXX)
printf 'AKS_BACKEND=%s\\nAKS_KVM=%s\\nAKS_ARCH=%s\\nAKS_OS=%s\\n' "$backend" "$kvm" "$arch" "\${ID:-unknown}-\${VERSION_ID:-unknown}" > "$tmp"
aks_install_file "$tmp" ${HOST.hostFacts} 0644 root:root
aks_log "preflight: \${PRETTY_NAME:-?} $arch, $ram_mb MB RAM, $disk_mb MB free, kvm=$kvm -> agentkernel backend $backend"
`),
  };
}
