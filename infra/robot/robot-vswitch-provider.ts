// Dynamic provider for a Robot vSwitch (a VLAN between dedicated servers and Cloud networks): finds
// the vSwitch with the configured name and VLAN or orders one, then attaches the server. Delete only
// detaches the server; the vSwitch itself may carry other servers, so cancelling it stays a manual
// decision. Self-contained for Pulumi's function serialization.
import type * as pulumi from '@pulumi/pulumi';
import { robotAccess, robotRequest, type RobotAccessState } from './robot-api.js';

export interface RobotVswitchState extends RobotAccessState {
  name: string;
  vlan: number;
  serverIp: string;
  vswitchId?: number;
}

async function findOrOrder(s: RobotVswitchState): Promise<number> {
  const access = robotAccess(s);
  const list = (await robotRequest(access, 'GET', '/vswitch')) as unknown;
  if (!Array.isArray(list)) throw new Error(`Robot GET /vswitch: expected a list, got ${JSON.stringify(list).slice(0, 200)}`);
  const found = list.find((v: Record<string, unknown>) => v.name === s.name && v.vlan === s.vlan && v.cancelled !== true);
  if (found) return Number(found.id);
  const created = await robotRequest(access, 'POST', '/vswitch', [['name', s.name], ['vlan', String(s.vlan)]]);
  if (typeof created.id !== 'number') throw new Error(`Robot POST /vswitch: answer has no id: ${JSON.stringify(created).slice(0, 200)}`);
  return created.id;
}

async function attach(s: RobotVswitchState, id: number): Promise<void> {
  const access = robotAccess(s);
  const detail = await robotRequest(access, 'GET', `/vswitch/${id}`);
  const servers = (detail.server ?? []) as { server_ip?: string }[];
  if (servers.some((x) => x.server_ip === s.serverIp)) return;
  await robotRequest(access, 'POST', `/vswitch/${id}/server`, [['server[]', s.serverIp]]);
}

export const robotVswitchProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: RobotVswitchState, news: RobotVswitchState) {
    const replaces = (['name', 'vlan', 'serverIp'] as const).filter((k) => olds[k] !== news[k]);
    const credentials = olds.robotUser !== news.robotUser || olds.robotPassword !== news.robotPassword || olds.robotUrl !== news.robotUrl;
    return { changes: replaces.length > 0 || credentials, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: RobotVswitchState) {
    const vswitchId = await findOrOrder(inputs);
    await attach(inputs, vswitchId);
    return { id: String(vswitchId), outs: { ...inputs, vswitchId } };
  },
  async update(_id: string, olds: RobotVswitchState, news: RobotVswitchState) {
    return { outs: { ...news, vswitchId: olds.vswitchId } };
  },
  async delete(id: string, props: RobotVswitchState) {
    try {
      await robotRequest(robotAccess(props), 'DELETE', `/vswitch/${id}/server`, [['server[]', props.serverIp]]);
    } catch (err) {
      // Already detached or the vSwitch is gone: the state we want.
      const code = (err as { code?: string }).code;
      if (code !== 'NOT_FOUND' && code !== 'SERVER_NOT_FOUND') throw err;
    }
  },
};
