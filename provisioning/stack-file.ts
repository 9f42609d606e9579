// Reads a Pulumi stack file (stacks/Pulumi.<stack>.yaml) without Pulumi: the `config:` map with our
// `agentkernel-saas:` namespace stripped. Keys of other namespaces (e.g. `hcloud:token`) are left out.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export const CONFIG_NAMESPACE = 'agentkernel-saas';

export function readStackFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`stack file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`stack file ${path}: not valid YAML: ${(err as Error).message}`);
  }
  const config = (doc as { config?: unknown } | null)?.config;
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error(`stack file ${path}: has no top-level "config:" map`);
  }
  const prefix = `${CONFIG_NAMESPACE}:`;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  }
  if (!Object.keys(out).length) throw new Error(`stack file ${path}: no "${prefix}*" keys under config:`);
  return out;
}

/** stacks/Pulumi.<stack>.yaml relative to a repo root. */
export function stackFilePath(rootDir: string, stack: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`stack name "${stack}": use letters, digits, ".", "_" or "-"`);
  return `${rootDir}/stacks/Pulumi.${stack}.yaml`;
}
