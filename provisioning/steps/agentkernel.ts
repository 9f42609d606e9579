// Step "agentkernel": installs a pinned agentkernel from one of three sources, the runtime of the chosen
// backend (podman, or Firecracker via `agentkernel setup`), and its two systemd units.
import { stepScript, shq } from '../bash.js';
import { HOST, SYSTEMD_DIR, UNITS } from '../host-layout.js';
import type { PlanUpload, StepContext, StepDefinition } from '../plan.js';
import { agentkernelEnvFile, renderEnvFileScript } from '../templates/env-files.js';
import { agentkernelApiUnit, agentkernelDaemonUnit, renderUnit } from '../templates/systemd-units.js';
import { renderContainersConf } from '../templates/containers-conf.js';

// Debian 13's rustc is 1.85; agentkernel 0.18.1's locked dependencies need 1.89. So the build uses a
// pinned toolchain through Debian's rustup (downloaded once into the host's cache dir).
export const RUST_TOOLCHAIN = '1.95.0';
export const CARGO_BUILD_PACKAGES = ['rustup', 'build-essential', 'pkg-config', 'libssl-dev', 'cmake'];
const BUILD_CACHE = '/var/cache/agentkernel-saas';

interface Install { dir: string; upload?: PlanUpload; body: string }

// Each source puts the binary at <dir>/bin/agentkernel; the dir name pins version (and content).
function installFromSource(ctx: StepContext): Install {
  const ak = ctx.config.agentkernel;
  if (ak.source === 'upload') {
    const bin = ctx.agentkernelBinary!;
    const dir = `${HOST.agentkernelPrefix}/${ak.version}-upload-${bin.sha256.slice(0, 12)}`;
    const remote = `${HOST.uploadDir}/agentkernel-${bin.sha256.slice(0, 12)}`;
    return {
      dir,
      upload: { local: bin.path, remote },
      body: `
echo ${shq(`${bin.sha256}  ${remote}`)} | sha256sum -c --quiet
install -D -m 0755 ${shq(remote)} "$dir/bin/agentkernel"`,
    };
  }
  if (ak.source === 'release') {
    const dir = `${HOST.agentkernelPrefix}/${ak.version}-release-${ak.releaseSha256!.slice(0, 12)}`;
    return {
      dir,
      body: `
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
curl -fsSL --retry 3 -o "$work/release" ${shq(ak.releaseUrl!)}
echo ${shq(`${ak.releaseSha256}  `)}"$work/release" | sha256sum -c --quiet
mkdir "$work/x"; tar -xf "$work/release" -C "$work/x"
found=$(find "$work/x" -type f -name agentkernel | head -1)
[ -n "$found" ] || { aks_log "release archive has no agentkernel binary"; exit 1; }
install -D -m 0755 "$found" "$dir/bin/agentkernel"`,
    };
  }
  const dir = `${HOST.agentkernelPrefix}/${ak.version}-cargo`;
  return {
    dir,
    body: `
aks_pkgs ${CARGO_BUILD_PACKAGES.join(' ')}
export RUSTUP_HOME=${BUILD_CACHE}/rustup CARGO_HOME=${BUILD_CACHE}/cargo
rustup toolchain install ${RUST_TOOLCHAIN} --profile minimal >&2
aks_log "building agentkernel ${ak.version} with cargo ${RUST_TOOLCHAIN} (this takes a while)"
rustup run ${RUST_TOOLCHAIN} cargo install agentkernel --version ${shq(ak.version)} --locked --root "$dir.partial" >&2
mv "$dir.partial" "$dir"`,
  };
}

export function agentkernelStep(ctx: StepContext): StepDefinition {
  const install = installFromSource(ctx);
  const apiPath = `${SYSTEMD_DIR}/${UNITS.agentkernelApi}`;
  const daemonPath = `${SYSTEMD_DIR}/${UNITS.agentkernelDaemon}`;
  return {
    id: 'agentkernel',
    name: `agentkernel ${ctx.config.agentkernel.version} (${ctx.config.agentkernel.source})`,
    files: [
      { path: apiPath, content: renderUnit(agentkernelApiUnit()), mode: '0644', owner: 'root:root' },
      { path: daemonPath, content: renderUnit(agentkernelDaemonUnit()), mode: '0644', owner: 'root:root' },
      { path: HOST.containersConf, content: renderContainersConf(), mode: '0644', owner: 'root:root' },
    ],
    ...(install.upload ? { uploads: [install.upload] } : {}),
    script: stepScript(`
backend=$(aks_fact AKS_BACKEND)
dir=${shq(install.dir)}
if [ ! -x "$dir/bin/agentkernel" ]; then
  rm -rf "$dir.partial"
${install.body.trim().split('\n').map((l) => `  ${l}`).join('\n')}
  aks_changed "installed $dir/bin/agentkernel"
fi
if [ "$(readlink ${HOST.agentkernelBin} || true)" != "$dir/bin/agentkernel" ]; then
  ln -sfn "$dir/bin/agentkernel" ${HOST.agentkernelBin}; aks_changed "${HOST.agentkernelBin} -> $dir/bin/agentkernel"
fi
if [ "$backend" = container ]; then
  aks_pkgs podman runc
else
  # Firecracker, kernel and rootfs images; agentkernel fetches them itself (needs internet once).
  if [ ! -f ${HOST.stampDir}/agentkernel-setup-$(basename "$dir") ]; then
    HOME=${HOST.agentkernelHome} ${HOST.agentkernelBin} setup -y >&2
    touch ${HOST.stampDir}/agentkernel-setup-$(basename "$dir"); aks_changed "agentkernel setup (firecracker)"
  fi
fi
${renderEnvFileScript(agentkernelEnvFile())}
aks_on_change agentkernel-units ${apiPath} ${daemonPath} -- systemctl daemon-reload
# The daemon (warm microVM pool) refuses to run without KVM: only on the firecracker backend.
if [ "$backend" = firecracker ]; then
  aks_on_change agentkernel-daemon-restart ${HOST.agentkernelBin} ${daemonPath} -- systemctl try-restart ${UNITS.agentkernelDaemon}
  aks_enable_now ${UNITS.agentkernelDaemon}
elif systemctl is-enabled --quiet ${UNITS.agentkernelDaemon} 2>/dev/null; then
  systemctl disable --now --quiet ${UNITS.agentkernelDaemon}; aks_changed "disabled ${UNITS.agentkernelDaemon} (no KVM)"
fi
aks_on_change agentkernel-api-restart ${HOST.agentkernelBin} ${apiPath} ${HOST.agentkernelEnv} ${HOST.containersConf} -- systemctl try-restart ${UNITS.agentkernelApi}
aks_enable_now ${UNITS.agentkernelApi}
for i in $(seq 1 60); do
  curl -fs -o /dev/null http://127.0.0.1:${HOST.agentkernelPort}/health && exit 0
  sleep 0.5
done
aks_log "agentkernel API did not answer on 127.0.0.1:${HOST.agentkernelPort}/health; journal:"
journalctl -u ${UNITS.agentkernelApi} -n 30 --no-pager >&2 || true
exit 1
`),
  };
}
