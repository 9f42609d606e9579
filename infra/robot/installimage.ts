// The rescue-system side of a reinstall: Hetzner's installimage in batch mode, installing the newest
// Debian 13 image the rescue system carries. Pure functions, serialized into the dynamic provider.

export interface InstallimageOptions {
  hostname: string;
  /** Disk names in the rescue system; empty = every disk it sees. */
  drives: string[];
  /** Software RAID level when there is more than one disk. */
  raidLevel: number;
}

const INSTALLIMAGE = '/root/.oldroot/nfs/install/installimage';
const IMAGES = '/root/.oldroot/nfs/images';

/** Prints "rescue" only inside Hetzner's rescue system (the old system may answer SSH too). */
export const RESCUE_PROBE = `test -x ${INSTALLIMAGE} && echo rescue || echo other`;
/** Prints "debian-13" once the installed system (not the rescue system) is up. */
export const INSTALLED_PROBE = `if test -e ${INSTALLIMAGE}; then echo rescue; else . /etc/os-release; echo "$ID-$VERSION_ID"; fi`;

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** bash script for the rescue system; exits non-zero with a message when it cannot install. */
export function installimageScript(o: InstallimageOptions): string {
  const drives = o.drives.length
    ? quote(o.drives.join(','))
    : `"$(lsblk -dn -o NAME,TYPE | awk '$2 == "disk" { print $1 }' | paste -sd, -)"`;
  return [
    'set -euo pipefail',
    `arch=amd64; [ "$(uname -m)" = aarch64 ] && arch=arm64`,
    `image=$(ls ${IMAGES}/Debian-13*-"$arch"-base.tar.gz 2>/dev/null | sort | tail -n 1)`,
    `[ -n "$image" ] || { echo "no Debian 13 image in ${IMAGES}" >&2; exit 1; }`,
    `drives=${drives}`,
    `[ -n "$drives" ] || { echo "no disks found" >&2; exit 1; }`,
    `raid=no; case "$drives" in *,*) raid=yes ;; esac`,
    // -K installs the keys Robot put into the rescue system (ours) for root on the new system.
    `${INSTALLIMAGE} -a -n ${quote(o.hostname)} -r "$raid" -l ${o.raidLevel} -d "$drives" -i "$image" -p swap:swap:4G,/boot:ext3:1024M,/:ext4:all -K /root/.ssh/authorized_keys -t yes`,
  ].join('\n');
}

/** The SSH exec command line running the script (the rescue system's login shell may differ). */
export function installimageCommand(o: InstallimageOptions): string {
  return `bash -c ${quote(installimageScript(o))}`;
}

/** Robot lists SSH keys by the MD5 fingerprint of the key blob, colon separated. */
export async function md5Fingerprint(openSshPublicKey: string): Promise<string> {
  const blob = openSshPublicKey.trim().split(/\s+/)[1];
  if (!blob) throw new Error('SSH public key is not in OpenSSH format ("type base64 [comment]")');
  const { createHash } = await import('node:crypto');
  const hex = createHash('md5').update(Buffer.from(blob, 'base64')).digest('hex');
  return hex.match(/../g)!.join(':');
}
