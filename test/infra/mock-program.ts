// Runs the Pulumi program under Pulumi's unit-test mocks (no CLI, no engine, no cloud) and records
// every resource it declares with its inputs, so tests can assert the resource graph.
// Mocks and config are set before the program module is first imported (it reads both when run).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as pulumi from '@pulumi/pulumi';

export const PROJECT = 'agentkernel-saas';
const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

export interface RecordedResource {
  type: string;
  name: string;
  id: string;
  inputs: Record<string, unknown>;
}

export interface ProgramRun {
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  secretOutputs: Set<string>;
}

/** True for a value the mock monitor received as a Pulumi secret. */
export function isSecretInput(value: unknown): boolean {
  return !!value && typeof value === 'object' && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** The plain value of a possibly secret input. */
export function plain<T = unknown>(value: unknown): T {
  return (isSecretInput(value) ? (value as { value: unknown }).value : value) as T;
}

/** The step script inside a rendered step command (the step program carries it base64-encoded). */
export function scriptOf(command: string): string {
  // The heredoc opener may itself be shell-quoted ('\'' inside bash -c '...').
  const m = /AKS_SCRIPT_EOF\S*\n([A-Za-z0-9+/=\n]+)AKS_SCRIPT_EOF/.exec(command);
  if (!m) throw new Error('no AKS_SCRIPT_EOF block in the command');
  return Buffer.from(m[1].replace(/\n/g, ''), 'base64').toString('utf8');
}

/** What the CLI does with a stack file: every value a string, structured ones as JSON. */
export function toPulumiConfig(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`${PROJECT}:${k}`, typeof v === 'string' ? v : JSON.stringify(v)]));
}

let testKey: string | undefined;
/** A throwaway ed25519 key made with ssh-keygen (the format operators use). */
export function testPrivateKey(): string {
  if (!testKey) {
    const dir = mkdtempSync(join(tmpdir(), 'aks-infra-key-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id'), '-C', 'infra-test']);
    testKey = execFileSync('cat', [join(dir, 'id')], { encoding: 'utf8' });
  }
  return testKey;
}

/** A stand-in for `npm run build` output (the plan only hashes and uploads it). */
export function fakeGatewayBundle(content = 'console.log("gateway")\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-infra-bundle-'));
  mkdirSync(join(dir, 'migrations'));
  writeFileSync(join(dir, 'agentkernel-gateway.mjs'), content);
  writeFileSync(join(dir, 'migrations', '001_init.sql'), 'select 1;\n');
  return dir;
}

// State the mocked providers report back, where the program reads outputs of a resource.
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case 'hcloud:index/primaryIp:PrimaryIp':
      return { ...inputs, ipAddress: '198.51.100.7' };
    case 'hcloud:index/server:Server':
      return { ...inputs, ipv4Address: '198.51.100.7', ipv6Address: '2001:db8::1' };
    case 'random:index/randomPassword:RandomPassword':
      return { ...inputs, result: `mock-${name}` };
    case 'pulumi-nodejs:dynamic/robot:Server': {
      // What the provider's create returns (see robot-server-provider.ts).
      const install = plain<{ generation: number } | undefined>(inputs.install);
      return { ...inputs, serverName: 'mock', product: 'AX42', datacenter: 'FSN1-DC1', installedGeneration: install ? install.generation : null };
    }
    case 'command:remote:Command':
      return { ...inputs, stdout: name.endsWith('-backend') ? 'container\n' : 'AKS_CHANGED\n', stderr: '' };
    default:
      return inputs;
  }
}

/** `other`: config of other namespaces (e.g. hcloud:token), as the CLI passes it. */
export async function runProgram(
  stack: string,
  raw: Record<string, unknown>,
  secretKeys: string[],
  gatewayBundleDir: string,
  other: Record<string, string> = {},
  preview = false,
): Promise<ProgramRun> {
  const resources: RecordedResource[] = [];
  pulumi.runtime.setAllConfig({ ...toPulumiConfig(raw), ...other }, [...secretKeys.map((k) => `${PROJECT}:${k}`), ...Object.keys(other)]);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        // Hetzner Cloud ids are numbers (the program passes them on as numbers).
        const id = args.type.startsWith('hcloud:') ? String(1000 + resources.length) : `${args.name}-id`;
        resources.push({ type: args.type, name: args.name, id, inputs: args.inputs });
        return { id, state: mockState(args.type, args.name, args.inputs) };
      },
      call(args) {
        return args.inputs;
      },
    },
    PROJECT,
    stack,
    preview,
  );
  const { agentkernelStack } = await import('../../infra/program.js');
  const result = await agentkernelStack({ gatewayBundleDir, robotUrl: 'http://127.0.0.1:9' });
  const outputs: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  if (preview) {
    // Outputs of resources that do not exist yet stay unknown in a preview; only the graph counts.
    await new Promise((r) => setTimeout(r, 500));
    return { resources, outputs, secretOutputs };
  }
  for (const [key, value] of Object.entries(result)) {
    const out = pulumi.output(value as pulumi.Input<string>) as pulumi.Output<unknown>;
    outputs[key] = await new Promise((resolve) => out.apply(resolve));
    if (await pulumi.isSecret(out)) secretOutputs.add(key);
  }
  // Registrations finish asynchronously; the outputs above depend on the last ones.
  await new Promise((r) => setTimeout(r, 50));
  return { resources, outputs, secretOutputs };
}
