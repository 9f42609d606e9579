// Dynamic provider for an adopted Hetzner dedicated server. Create checks through the Robot
// webservice that the server number has the configured IP; with `install`, it also reinstalls the
// server: rescue system with our SSH key, hardware reset, wait for the rescue SSH, installimage
// (Debian 13), reboot, wait for the installed system. Delete leaves the server alone (it is rented,
// not created, by this program). Self-contained for Pulumi's function serialization.
import type * as pulumi from '@pulumi/pulumi';
import { robotAccess, robotField, robotRequest, type RobotAccess, type RobotAccessState } from './robot-api.js';
import { INSTALLED_PROBE, RESCUE_PROBE, installimageCommand, md5Fingerprint, type InstallimageOptions } from './installimage.js';
import { sshRun, sshWaitFor, type SshTarget } from './ssh-run.js';

export interface ReinstallTiming {
  rescueWaitMs: number;
  installMs: number;
  bootWaitMs: number;
  pollMs: number;
}

export const REINSTALL_TIMING: ReinstallTiming = { rescueWaitMs: 10 * 60_000, installMs: 30 * 60_000, bootWaitMs: 15 * 60_000, pollMs: 10_000 };

export interface RobotServerState extends RobotAccessState {
  serverNumber: number;
  serverIp: string;
  /** Present when the server is to be (re)installed; a new generation reinstalls. */
  install?: InstallimageOptions & { generation: number; sshPublicKey: string };
  /** Only used while installing; never in the outputs (as an input it is a secret, stored encrypted). */
  sshPrivateKey?: string;
  timing?: ReinstallTiming;
  // Outputs
  serverName?: string;
  product?: string;
  datacenter?: string;
  installedGeneration?: number | null;
}

/** The server as Robot knows it; fails when the number does not belong to the configured IP. */
async function adoptServer(s: RobotServerState): Promise<Pick<RobotServerState, 'serverName' | 'product' | 'datacenter'>> {
  const what = `GET /server/${s.serverNumber}`;
  const answer = await robotRequest(robotAccess(s), 'GET', `/server/${s.serverNumber}`);
  const ip = robotField(answer, 'server', 'server_ip', what);
  if (ip !== s.serverIp) {
    throw new Error(`Hetzner server ${s.serverNumber} has main IP ${String(ip)}, not ${s.serverIp} (check hetzner.serverNumber and hetzner.serverIp)`);
  }
  const server = answer.server as Record<string, unknown>;
  return { serverName: String(server.server_name ?? ''), product: String(server.product ?? ''), datacenter: String(server.dc ?? '') };
}

async function ensureRobotKey(access: RobotAccess, publicKey: string): Promise<string> {
  const fingerprint = await md5Fingerprint(publicKey);
  try {
    await robotRequest(access, 'GET', `/key/${fingerprint}`);
  } catch (err) {
    if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
    await robotRequest(access, 'POST', '/key', [['name', `agentkernel-saas ${fingerprint.slice(0, 11)}`], ['data', publicKey.trim()]]);
  }
  return fingerprint;
}

async function activateRescue(access: RobotAccess, serverNumber: number, fingerprint: string): Promise<void> {
  const path = `/boot/${serverNumber}/rescue`;
  const form: [string, string][] = [['os', 'linux'], ['authorized_key[]', fingerprint]];
  let answer: Record<string, unknown>;
  try {
    answer = await robotRequest(access, 'POST', path, form);
  } catch (err) {
    // An earlier activation (without our key, or another boot option) is replaced by ours.
    const code = (err as { code?: string }).code;
    if (code !== 'BOOT_ALREADY_ACTIVE' && code !== 'RESCUE_ALREADY_ACTIVE') throw err;
    await robotRequest(access, 'DELETE', path);
    answer = await robotRequest(access, 'POST', path, form);
  }
  if (robotField(answer, 'rescue', 'active', `POST ${path}`) !== true) {
    throw new Error(`Robot POST ${path}: rescue system is not active after activation: ${JSON.stringify(answer).slice(0, 200)}`);
  }
}

async function reinstall(s: RobotServerState): Promise<void> {
  const install = s.install!;
  if (!s.sshPrivateKey) throw new Error('reinstall needs the SSH private key (agentkernel-saas:sshPrivateKey)');
  const access = robotAccess(s);
  const timing = s.timing ?? REINSTALL_TIMING;
  const target: SshTarget = { host: s.serverIp, port: 22, user: 'root', privateKey: s.sshPrivateKey };
  const fingerprint = await ensureRobotKey(access, install.sshPublicKey);
  await activateRescue(access, s.serverNumber, fingerprint);
  const reset = await robotRequest(access, 'POST', `/reset/${s.serverNumber}`, [['type', 'hw']]);
  robotField(reset, 'reset', 'type', `POST /reset/${s.serverNumber}`);
  await sshWaitFor(target, RESCUE_PROBE, 'rescue', timing.rescueWaitMs, timing.pollMs, `rescue system of server ${s.serverNumber}`);
  const result = await sshRun(target, installimageCommand(install), timing.installMs);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    throw new Error(`installimage on server ${s.serverNumber} failed (exit ${result.code}):\n${tail}`);
  }
  // Detached from the session (all three fds) so the SSH exec returns before the machine goes down.
  await sshRun(target, `nohup sh -c 'sleep 2; reboot' </dev/null >/dev/null 2>&1 &`, 30_000);
  await sshWaitFor(target, INSTALLED_PROBE, 'debian-13', timing.bootWaitMs, timing.pollMs, `Debian 13 on server ${s.serverNumber} after installimage`);
}

function outputsOf(s: RobotServerState, facts: Awaited<ReturnType<typeof adoptServer>>, installedGeneration: number | null): RobotServerState {
  // The private key is only an input for the reinstall; it never goes into the outputs.
  const { sshPrivateKey: _unused, ...kept } = s;
  return { ...kept, ...facts, installedGeneration };
}

export const robotServerProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: RobotServerState, news: RobotServerState) {
    const replaces = (['serverNumber', 'serverIp'] as const).filter((k) => olds[k] !== news[k]);
    const reinstall = news.install !== undefined && news.install.generation !== (olds.installedGeneration ?? null);
    const credentials = olds.robotUser !== news.robotUser || olds.robotPassword !== news.robotPassword || olds.robotUrl !== news.robotUrl;
    return { changes: replaces.length > 0 || reinstall || credentials, replaces, deleteBeforeReplace: false };
  },
  async create(inputs: RobotServerState) {
    const facts = await adoptServer(inputs);
    if (inputs.install) await reinstall(inputs);
    return { id: String(inputs.serverNumber), outs: outputsOf(inputs, facts, inputs.install ? inputs.install.generation : null) };
  },
  async update(_id: string, olds: RobotServerState, news: RobotServerState) {
    const facts = await adoptServer(news);
    let generation = olds.installedGeneration ?? null;
    if (news.install && news.install.generation !== generation) {
      await reinstall(news);
      generation = news.install.generation;
    }
    return { outs: outputsOf(news, facts, generation) };
  },
  async read(id: string, props: RobotServerState) {
    return { id, props: { ...props, ...(await adoptServer(props)) } };
  },
  async delete() {
    // Adopted, not created: destroying the stack must not touch the rented server.
  },
};
