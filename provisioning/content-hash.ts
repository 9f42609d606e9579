// Content hashes of the operator's local upload sources (a file or a directory tree), so a step's hash
// and its remote upload path change exactly when the uploaded bytes (or executable bits) change.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function contentHash(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new Error(`${path}: does not exist`);
  if (st.isFile()) return sha256(readFileSync(path));
  if (!st.isDirectory()) throw new Error(`${path}: not a file or directory`);
  const h = createHash('sha256');
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = statSync(p);
      if (s.isDirectory()) walk(p, r);
      else if (s.isFile()) {
        h.update(`${r}\0${s.mode & 0o111 ? 'x' : '-'}\0${sha256(readFileSync(p))}\n`);
      }
    }
  };
  walk(path, '');
  return h.digest('hex');
}
