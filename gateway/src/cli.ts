// `agentkernel-gateway`: the operator's command line. Subcommand names are part of the deployment
// contract (provisioning scripts and docs call them): serve, migrate, accounts, keys, usage.
import { Command, InvalidArgumentError } from 'commander';
import { AccountStore } from './accounts.js';
import { ConfigError, loadConfig } from './config.js';
import { createDb, migrate } from './db.js';
import { ApiError } from './errors.js';
import { parseMonth, periodStart } from './period.js';
import { startGateway } from './server.js';
import { loadTierCatalog } from './tiers.js';
import { usageCsv, usageReport } from './usage-report.js';

function databaseUrl(): string {
  const url = process.env.DATABASE_URL?.trim();
  if (!url) throw new ConfigError('DATABASE_URL', 'is required but not set');
  return url;
}

/** Runs `fn` with an AccountStore on DATABASE_URL and the tier file, then closes the pool. */
async function withStore<T>(fn: (store: AccountStore, db: ReturnType<typeof createDb>) => Promise<T>): Promise<T> {
  const url = databaseUrl();
  const tiers = loadTierCatalog(process.env.GATEWAY_TIERS?.trim() || undefined);
  await migrate(url);
  const db = createDb(url, 2);
  try {
    return await fn(new AccountStore(db, tiers), db);
  } finally {
    await db.end();
  }
}

const print = (v: unknown): void => {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
};

export function buildCli(): Command {
  const program = new Command('agentkernel-gateway').description('Metering, multi-tenant gateway in front of agentkernel').showHelpAfterError();

  program.command('serve').description('run the gateway (applies pending migrations first)').action(async () => {
    const gw = await startGateway(loadConfig());
    const stop = async () => {
      await gw.close();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

  program.command('migrate').description('apply pending database migrations').action(async () => {
    const { applied } = await migrate(databaseUrl());
    print({ applied });
  });

  const accounts = program.command('accounts').description('manage customer accounts');
  accounts.command('create').requiredOption('--name <name>').requiredOption('--email <email>').option('--tier <tier>')
    .description('create an account and its first API key (shown once)')
    .action(async (o: { name: string; email: string; tier?: string }) => {
      await withStore(async (store) => {
        const { account, apiKey, keyId } = await store.create(o);
        print({ id: account.id, name: account.name, email: account.email, tier: account.tier, apiKey, keyId });
      });
    });
  accounts.command('list').description('list accounts').action(async () => withStore(async (store) => print(await store.list())));
  accounts.command('set-tier').argument('<id>').argument('<tier>').description("change an account's tier")
    .action(async (id: string, tier: string) => withStore(async (store) => print(await store.update(id, { tier }))));
  for (const [action, status] of [['suspend', 'suspended'], ['activate', 'active']] as const) {
    accounts.command(action).argument('<id>').description(`${action} an account`)
      .action(async (id: string) => withStore(async (store) => print(await store.update(id, { status }))));
  }

  const keys = program.command('keys').description('manage API keys');
  keys.command('create').argument('<accountId>').description('issue another key for an account (shown once)')
    .action(async (accountId: string) => withStore(async (store) => {
      const k = await store.issueKey(accountId);
      print({ id: k.id, apiKey: k.apiKey, prefix: k.prefix });
    }));
  keys.command('revoke').argument('<keyId>').description('revoke a key at once')
    .action(async (keyId: string) => withStore(async (store) => print(await store.revokeKey(keyId))));

  program.command('usage').requiredOption('--account <id>').option('--month <YYYY-MM>', 'month (default: this one)')
    .option('--format <format>', 'json or csv', (v) => {
      if (v !== 'json' && v !== 'csv') throw new InvalidArgumentError('use json or csv');
      return v;
    }, 'json')
    .description("an account's usage for a month, from the ledger")
    .action(async (o: { account: string; month?: string; format: 'json' | 'csv' }) => {
      const period = o.month === undefined ? periodStart() : parseMonth(o.month);
      if (!period) throw new InvalidArgumentError(`--month must look like YYYY-MM (got "${o.month}")`);
      await withStore(async (store, db) => {
        await store.get(o.account);
        const report = await usageReport(db, o.account, period);
        if (o.format === 'csv') process.stdout.write(usageCsv(report));
        else print(report);
      });
    });
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    const msg = e instanceof ApiError || e instanceof ConfigError ? e.message : (e as Error).message;
    process.stderr.write(`agentkernel-gateway: ${msg}\n`);
    process.exit(e instanceof ConfigError ? 78 : 1);
  }
}
