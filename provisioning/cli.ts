// `agentkernel-saas`: the operator's commands (provision, verify, backup, restore, plan) over SSH,
// without a Pulumi backend. The same plan as `pulumi up` applies, run by the SSH executor.
import { Command, Option } from 'commander';
import { isIP } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST } from './host-layout.js';
import { buildPlan, type ProvisioningPlan } from './plan.js';
import { parsePlanConfig, type PlanConfig } from './plan-config.js';
import { readStackFile, stackFilePath } from './stack-file.js';
import { SshExecutor, StepFailedError, tail, type SshTarget } from './ssh-executor.js';
import { shq } from './bash.js';
import { validateTierFile } from '../gateway/src/tiers.js';

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

interface HostOptions { host: string; port: string; user: string; identity?: string; sshOption: string[]; allowLoopback?: boolean }
interface StackOptions { stack?: string; stackFile?: string }

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function withHost(cmd: Command): Command {
  return cmd
    .requiredOption('--host <host>', 'target host (name or address)')
    .option('--port <port>', 'SSH port', '22')
    .option('--user <user>', 'SSH user; must be root (the plan installs packages, units and a firewall)', 'root')
    .option('--identity <key>', 'SSH private key file')
    .option('--ssh-option <Key=Value>', 'extra OpenSSH -o option (repeatable)', collect, [])
    .option('--allow-loopback', 'allow a loopback --host (the plan installs a firewall on whatever host that is)');
}

function withStack(cmd: Command, required: boolean): Command {
  return cmd
    .option('--stack <name>', `stack name: reads stacks/Pulumi.<name>.yaml${required ? '' : ' (optional)'}`)
    .option('--stack-file <path>', 'stack file path instead of --stack');
}

function target(o: HostOptions): SshTarget {
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port ${o.port}: not a TCP port`);
  // The plan sets up a firewall and system services: refuse this machine itself unless asked to.
  const loopback = o.host === 'localhost' || (isIP(o.host) === 4 && o.host.startsWith('127.')) || o.host === '::1';
  if (loopback && !o.allowLoopback) throw new Error(`--host ${o.host} is this machine; pass --allow-loopback if you really mean to provision it`);
  // Every step needs root; sudo for a non-root login is not implemented (yet).
  if (o.user !== 'root') throw new Error(`--user ${o.user}: log in as root (sudo for other users is not supported yet)`);
  return { host: o.host, port, user: o.user, identity: o.identity, options: o.sshOption };
}

function loadConfig(o: StackOptions): { config: PlanConfig; file: string } {
  if (!o.stack && !o.stackFile) throw new Error('give --stack NAME or --stack-file PATH');
  const file = o.stackFile ?? stackFilePath(process.cwd(), o.stack!);
  const config = parsePlanConfig(readStackFile(file), file);
  // The gateway's own tier rules, checked here rather than when the gateway starts on the host.
  validateTierFile(config.tiers, `${file}: agentkernel-saas:tiers`);
  return { config, file };
}

function summarize(changes: string[], max = 200): string {
  const text = changes.join('; ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function fmtSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function planFor(o: StackOptions & { gatewayBundle: string; agentkernelBinary?: string }): { plan: ProvisioningPlan; config: PlanConfig } {
  const { config } = loadConfig(o);
  // An explicit binary means "upload this one", whatever the stack file's source says.
  if (o.agentkernelBinary) config.agentkernel = { ...config.agentkernel, source: 'upload', uploadPath: o.agentkernelBinary };
  return { plan: buildPlan(config, { gatewayBundleDir: o.gatewayBundle, agentkernelBinary: o.agentkernelBinary }), config };
}

async function withExecutor<T>(o: HostOptions, fn: (ssh: SshExecutor) => Promise<T>): Promise<T> {
  const ssh = new SshExecutor(target(o));
  try {
    return await fn(ssh);
  } finally {
    await ssh.close();
  }
}

async function provision(o: HostOptions & StackOptions & { gatewayBundle: string; agentkernelBinary?: string; verbose?: boolean }): Promise<void> {
  const { plan, config } = planFor(o);
  const started = performance.now();
  let changed = 0;
  await withExecutor(o, async (ssh) => {
    try {
      await ssh.runPlan(plan, {
        environment: process.env,
        verbose: o.verbose,
        onStepStart: (s, n) => process.stdout.write(`[${s.number}/${n}] ${s.name} ...${o.verbose ? '\n' : ''}`),
        onStepDone: (r, n) => {
          if (r.changed) changed++;
          const head = o.verbose ? `[${r.step.number}/${n}] ${r.step.name} ...` : '';
          process.stdout.write(`${head} ${fmtSeconds(r.durationMs)} ${r.changed ? 'changed' : 'unchanged'}\n`);
          // What changed, on one indented line (the step line keeps its fixed format for scripts).
          if (r.changed) process.stdout.write(`      ${summarize(r.changes)}\n`);
        },
      });
    } catch (err) {
      if (err instanceof StepFailedError) {
        process.stdout.write(' FAILED\n');
        console.error(`\nprovision stopped at step ${err.step.number}/${plan.steps.length} "${err.step.name}" (exit code ${err.exitCode}).`);
        if (err.stderrTail) console.error(`last lines of its stderr:\n${err.stderrTail}`);
        if (err.exitCode === 255) console.error('(exit code 255 is ssh\'s own: the connection failed or was cut)');
        console.error('\nFix the cause and run the same command again: finished steps are skipped as unchanged.');
        process.exitCode = 1;
        return;
      }
      throw err;
    }
    const total = plan.steps.length;
    console.log(`\n${total} steps, ${changed} changed, ${total - changed} unchanged in ${fmtSeconds(performance.now() - started)}`);
    console.log(`service: https://${config.domain}/ (gateway admin token: GATEWAY_ADMIN_TOKEN in ${HOST.secretsEnv} on the host)`);
    if (config.tls === 'internal') console.log(`tls internal: clients must trust Caddy's root CA, on the host at ${HOST.caddyRootCa}`);
    if (config.bootstrapAccount) console.log(`first account (with its API key, shown once): ${HOST.bootstrapFile} on the host`);
    console.log(`check it: agentkernel-saas verify --host ${o.host}${o.stack ? ` --stack ${o.stack}` : ''}`);
  });
}

async function verify(o: HostOptions & StackOptions): Promise<void> {
  if (o.stack || o.stackFile) loadConfig(o); // a broken stack file is reported, even though the host knows its checks
  await withExecutor(o, async (ssh) => {
    const out = await ssh.exec(`test -x ${HOST.healthTool} && ${HOST.healthTool}`);
    const rows = out.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
    if (!rows.length) {
      console.error(`verify: ${HOST.healthTool} is missing or printed nothing (was the host provisioned?)\n${tail(out.stderr)}`);
      process.exitCode = 1;
      return;
    }
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(`${'CHECK'.padEnd(width)}  RESULT  DETAIL`);
    for (const [check, result, detail = ''] of rows) console.log(`${check.padEnd(width)}  ${result.padEnd(6)}  ${detail}`);
    const failed = rows.filter((r) => r[1] !== 'ok').length;
    console.log(failed ? `\n${failed} of ${rows.length} checks failed` : `\nall ${rows.length} checks passed`);
    if (failed || out.exitCode !== 0) process.exitCode = 1;
  });
}

async function backup(o: HostOptions & { download?: string }): Promise<void> {
  await withExecutor(o, async (ssh) => {
    const out = await ssh.exec(HOST.backupTool);
    if (out.exitCode !== 0) throw new Error(`backup failed:\n${tail(out.stderr)}`);
    const remote = out.stdout.trim().split('\n').at(-1)!;
    console.log(remote);
    if (o.download) {
      const local = join(o.download, basename(remote));
      await ssh.copyFrom(remote, local);
      console.log(`downloaded to ${local}`);
    }
  });
}

async function restore(o: HostOptions & { from?: string; fromLocal?: string }): Promise<void> {
  if (!o.from === !o.fromLocal) throw new Error('give exactly one of --from HOST_FILE or --from-local FILE');
  await withExecutor(o, async (ssh) => {
    let file = o.from!;
    if (o.fromLocal) {
      // Another host's dump (e.g. moving from a home box to a server): upload it next to ours.
      file = `${HOST.backupDir}/uploaded-${Date.now()}-${basename(o.fromLocal)}`;
      const up = await ssh.copyTo(o.fromLocal, file);
      if (up.exitCode !== 0) throw new Error(`uploading ${o.fromLocal} failed:\n${tail(up.stderr)}`);
    }
    const out = await ssh.exec(`${HOST.restoreTool} ${shq(file)}`);
    if (out.exitCode !== 0) throw new Error(`restore failed:\n${tail(out.stderr, 45)}`);
    console.log(out.stdout.trim());
  });
}

export function program(): Command {
  const cli = new Command('agentkernel-saas').description('Provision and check an agentkernel-saas host over SSH').showHelpAfterError();
  const bundle = new Option('--gateway-bundle <dir>', 'gateway bundle directory (npm run build)').default(`${PACKAGE_ROOT}dist/gateway`);
  const binary = new Option('--agentkernel-binary <path>', 'upload this agentkernel binary (overrides agentkernel.source)');
  withStack(withHost(cli.command('provision').description('apply the provisioning plan to a host')), true)
    .addOption(bundle)
    .addOption(binary)
    .option('--verbose', "show each step's remote stderr live")
    .action((o) => provision(o));
  withStack(withHost(cli.command('verify').description('check a provisioned host; non-zero exit on any failure')), false).action((o) => verify(o));
  withHost(cli.command('backup').description('take a database backup now; prints its path on the host'))
    .option('--download <dir>', 'also copy the dump into this local directory')
    .action((o) => backup(o));
  withHost(cli.command('restore').description('restore the database from a backup (the gateway is stopped meanwhile)'))
    .option('--from <file>', 'backup file on the host (as printed by backup)')
    .option('--from-local <file>', 'backup file on this machine (uploaded first)')
    .action((o) => restore(o));
  withStack(cli.command('plan').description('print the plan (steps, hashes) without touching any host'), true)
    .addOption(bundle)
    .addOption(binary)
    .option('--json', 'the whole plan as JSON (contains no secrets)')
    .action((o) => {
      const { plan } = planFor(o);
      if (o.json) console.log(JSON.stringify(plan, null, 2));
      else for (const s of plan.steps) console.log(`[${s.number}/${plan.steps.length}] ${s.id.padEnd(15)} ${s.hash.slice(0, 12)}  ${s.name}`);
    });
  return cli;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    console.error(`agentkernel-saas: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
