// Bash building blocks shared by every step script: quoting, and a small library of idempotent
// helpers. A helper prints AKS_CHANGED (the executors' "this step changed something" signal) only
// when it really changed the host, so a re-run of an unchanged plan reports every step unchanged.
import { HOST } from './host-layout.js';

/** Single-quotes a value for bash (safe for any byte string without NUL). */
export function shq(value: string | number): string {
  const s = String(value);
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const CHANGED_MARKER = 'AKS_CHANGED';

// Kept as one block so each step carries exactly the helpers it may call (part of its hash).
export const BASH_PRELUDE = `set -eEuo pipefail
# A failing command names itself on stderr: the executors show that tail when a step fails.
trap 'echo "failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
umask 022
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
# aks_changed WHAT: reports a change; the executors show WHAT next to the step.
aks_changed() { echo "${CHANGED_MARKER} $*"; }
aks_log() { echo "$*" >&2; }
# aks_pkgs PKG...: installs the packages that are missing (apt index refreshed once, if needed).
aks_pkgs() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ \${#missing[@]} -eq 0 ] && return 0
  aks_log "installing: \${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq -o Dpkg::Options::=--force-confold --no-install-recommends "\${missing[@]}" >&2
  aks_changed "installed \${missing[*]}"
}
# aks_stamp_differs NAME FILE...: true when the files' content differs from what was last applied
# under NAME. Stamps make "restart on config change" survive a failure between write and restart.
aks_stamp_hash() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
aks_stamp_differs() { local n=$1; shift; [ "$(cat ${HOST.stampDir}/"$n" 2>/dev/null)" != "$(aks_stamp_hash "$@")" ]; }
aks_stamp_record() { local n=$1; shift; mkdir -p ${HOST.stampDir}; aks_stamp_hash "$@" > ${HOST.stampDir}/"$n"; }
# aks_on_change NAME FILE... -- CMD...: runs CMD when the files changed since NAME was last applied.
aks_on_change() {
  local n=$1; shift; local files=()
  while [ "$1" != "--" ]; do files+=("$1"); shift; done; shift
  if aks_stamp_differs "$n" "\${files[@]}"; then "$@"; aks_stamp_record "$n" "\${files[@]}"; aks_changed "$n: $*"; fi
}
# aks_enable_now UNIT...: enabled at boot and running now.
aks_enable_now() {
  local u
  for u in "$@"; do
    systemctl is-enabled --quiet "$u" 2>/dev/null || { systemctl enable --quiet "$u"; aks_changed "enabled $u"; }
    systemctl is-active --quiet "$u" || { systemctl start "$u"; aks_changed "started $u"; }
  done
}
# aks_secret NAME: a value kept in the secrets file by the secrets step.
aks_secret() { sed -n "s/^$1=//p" ${HOST.secretsEnv}; }
# aks_fact NAME: a host fact recorded by preflight.
aks_fact() { sed -n "s/^$1=//p" ${HOST.hostFacts}; }
# aks_install_file SRC DEST MODE OWNER: copies when different (for files assembled on the host).
aks_install_file() {
  if ! cmp -s "$1" "$2" || [ "$(stat -c '%a %U:%G' "$2")" != "$(printf '%o' "0$3") $4" ]; then
    install -m "$3" -o "\${4%%:*}" -g "\${4##*:}" "$1" "$2.aks-new" && mv -f "$2.aks-new" "$2"; rm -f "$1"; aks_changed "wrote $2"
  else rm -f "$1"; fi
}
`;

/** A complete step script: the shared prelude followed by the step's own body. */
export function stepScript(body: string): string {
  return `${BASH_PRELUDE}\n${body.trim()}\n`;
}
