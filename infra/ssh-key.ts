// The operator's SSH key: Pulumi connects with the private key (a secret config value); the public
// half is derived from it for Hetzner (Cloud SSH key, Robot key for the rescue system), so the two
// can never disagree.
import ssh2 from 'ssh2';

/** OpenSSH public key line ("ssh-ed25519 AAAA...") for an unencrypted private key. */
export function publicKeyOf(privateKey: string, where: string): string {
  const parsed = ssh2.utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error) throw new Error(`${where}: not a usable private key (${key.message}); use an unencrypted OpenSSH or PEM key`);
  return `${key.type} ${key.getPublicSSH().toString('base64')} agentkernel-saas`;
}
