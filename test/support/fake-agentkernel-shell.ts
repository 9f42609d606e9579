// Deterministic stand-in for "a command run inside an agentkernel sandbox" (an Alpine/busybox container
// upstream). Enough of busybox and `sh` for tests to check outputs, exit codes, env, workdir and files:
// echo, printf, cat, ls, rm, mkdir, touch, pwd, whoami, id -u, hostname, uname, env, seq, wc -c,
// true, false, exit N, sleep N (really waits), sh -c 'a; b && c || d | e > f 2>&1'. Messages and exit codes
// are busybox's as seen in the real container (`cat: can't open '/x': No such file or directory`,
// `sh: foo: not found` 127). Nothing here touches the host.

export interface SandboxFs {
  files: Map<string, Buffer>;
}

export interface ShellContext {
  fs: SandboxFs;
  env: Record<string, string>;
  cwd: string;
}

export interface ShellResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** What `podman exec` gives a command in an agentkernel container (`--hostname agentkernel`). */
export const BASE_ENV: Readonly<Record<string, string>> = {
  HOSTNAME: 'agentkernel',
  HOME: '/root',
  container: 'podman',
  TERM: 'xterm',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

/** Longest `sleep` honoured, so a stray `sleep 3600` cannot wedge a test run. */
const MAX_SLEEP_MS = 30_000;

interface Io {
  stdin: string;
  out: (s: string) => void;
  err: (s: string) => void;
  ctx: ShellContext;
}

type Program = (args: string[], io: Io) => Promise<number> | number;

function resolvePath(ctx: ShellContext, p: string): string {
  const abs = p.startsWith('/') ? p : `${ctx.cwd.replace(/\/$/, '')}/${p}`;
  const parts: string[] = [];
  for (const seg of abs.split('/')) {
    if (!seg || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

function isDir(ctx: ShellContext, abs: string): boolean {
  if (abs === '/') return true;
  const prefix = `${abs}/`;
  for (const k of ctx.fs.files.keys()) if (k.startsWith(prefix)) return true;
  return false;
}

function sleepMs(ms: number): Promise<void> {
  // unref: a detached `sleep` must not keep a finished test process alive
  return new Promise((r) => setTimeout(r, Math.min(ms, MAX_SLEEP_MS)).unref());
}

/** A program whose output depends only on its arguments. */
function prints(text: (args: string[]) => string): Program {
  return (args, io) => {
    io.out(text(args));
    return 0;
  };
}

const programs: Record<string, Program> = {
  echo(args, io) {
    const noNl = args[0] === '-n';
    io.out((noNl ? args.slice(1) : args).join(' ') + (noNl ? '' : '\n'));
    return 0;
  },
  printf(args, io) {
    const [fmt = '', ...rest] = args;
    let i = 0;
    const body = fmt.replace(/%s|%d|\\n|\\t|\\\\|%%/g, (m) => {
      if (m === '\\n') return '\n';
      if (m === '\\t') return '\t';
      if (m === '\\\\') return '\\';
      if (m === '%%') return '%';
      return rest[i++] ?? '';
    });
    io.out(body);
    return 0;
  },
  cat(args, io) {
    if (!args.length) {
      io.out(io.stdin);
      return 0;
    }
    let code = 0;
    for (const a of args) {
      const content = io.ctx.fs.files.get(resolvePath(io.ctx, a));
      if (content === undefined) {
        io.err(`cat: can't open '${a}': No such file or directory\n`);
        code = 1;
      } else io.out(content.toString('utf8'));
    }
    return code;
  },
  ls(args, io) {
    const targets = args.filter((a) => !a.startsWith('-'));
    let code = 0;
    for (const t of targets.length ? targets : ['.']) {
      const abs = resolvePath(io.ctx, t);
      if (io.ctx.fs.files.has(abs)) {
        io.out(`${t}\n`);
        continue;
      }
      if (!isDir(io.ctx, abs)) {
        io.err(`ls: ${t}: No such file or directory\n`);
        code = 1;
        continue;
      }
      const prefix = abs === '/' ? '/' : `${abs}/`;
      const names = new Set<string>();
      for (const k of io.ctx.fs.files.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]);
      for (const n of [...names].sort()) io.out(`${n}\n`);
    }
    return code;
  },
  rm(args, io) {
    const force = args.some((a) => a.startsWith('-') && a.includes('f'));
    let code = 0;
    for (const a of args.filter((x) => !x.startsWith('-'))) {
      if (!io.ctx.fs.files.delete(resolvePath(io.ctx, a)) && !force) {
        io.err(`rm: can't remove '${a}': No such file or directory\n`);
        code = 1;
      }
    }
    return code;
  },
  mkdir: () => 0, // directories are implicit in the fake's flat file map
  nohup: (args, io) => (args.length ? runPipeline([{ argv: args }], io) : 1),
  touch(args, io) {
    for (const a of args) {
      const abs = resolvePath(io.ctx, a);
      if (!io.ctx.fs.files.has(abs)) io.ctx.fs.files.set(abs, Buffer.alloc(0));
    }
    return 0;
  },
  pwd(_args, io) {
    io.out(`${io.ctx.cwd}\n`);
    return 0;
  },
  whoami: prints(() => 'root\n'),
  id: prints((args) => (args.includes('-u') ? '0\n' : 'uid=0(root) gid=0(root) groups=0(root)\n')),
  hostname: prints(() => 'agentkernel\n'),
  uname: prints((args) => (args.includes('-a') ? 'Linux agentkernel 6.1.0 #1 SMP x86_64 Linux\n' : 'Linux\n')),
  env(_args, io) {
    for (const [k, v] of Object.entries(io.ctx.env)) io.out(`${k}=${v}\n`);
    return 0;
  },
  seq(args, io) {
    const [a, b] = args.map(Number);
    const [from, to] = b === undefined ? [1, a] : [a, b];
    for (let n = from; n <= to; n++) io.out(`${n}\n`);
    return 0;
  },
  wc(args, io) {
    const text = io.stdin;
    if (args.includes('-c')) io.out(`${Buffer.byteLength(text)}\n`);
    else if (args.includes('-l')) io.out(`${text.split('\n').length - 1}\n`);
    else io.out(`${text.split('\n').length - 1} ${text.split(/\s+/).filter(Boolean).length} ${Buffer.byteLength(text)}\n`);
    return 0;
  },
  true: () => 0,
  false: () => 1,
  async sleep(args) {
    await sleepMs(Number(args[0] ?? 0) * 1000);
    return 0;
  },
  async sh(args, io) {
    const c = args.indexOf('-c');
    const script = c >= 0 ? (args[c + 1] ?? '') : io.stdin;
    return runScript(script, io);
  },
};

// ---- a very small POSIX-sh subset: words, quotes, $VAR, ; && || |, > >> < 2>&1 2>/dev/null, ( ) ----

type Token = { op: string } | { word: string };

function tokenize(script: string, env: Record<string, string>): Token[] {
  const tokens: Token[] = [];
  let word: string | null = null;
  const push = () => {
    if (word !== null) tokens.push({ word });
    word = null;
  };
  const expand = (s: string, i: number): [string, number] => {
    const m = /^\$(\?|[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})/.exec(s.slice(i));
    if (!m) return ['$', i + 1];
    const name = m[1].replace(/[{}]/g, '');
    return [name === '?' ? '0' : (env[name] ?? ''), i + m[0].length];
  };
  for (let i = 0; i < script.length; ) {
    const c = script[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      push();
      if (c === '\n') tokens.push({ op: ';' });
      i++;
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      word = (word ?? '') + script.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? script.length : end + 1;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < script.length && script[i] !== '"') {
        if (script[i] === '\\' && '"\\$`'.includes(script[i + 1] ?? '')) {
          s += script[i + 1];
          i += 2;
        } else if (script[i] === '$') {
          const [v, next] = expand(script, i);
          s += v;
          i = next;
        } else s += script[i++];
      }
      word = (word ?? '') + s;
      i++;
    } else if (c === '\\') {
      word = (word ?? '') + (script[i + 1] ?? '');
      i += 2;
    } else if (c === '$') {
      const [v, next] = expand(script, i);
      word = (word ?? '') + v;
      i = next;
    } else {
      const op = ['2>&1', '1>&2', '>&2', '2>>', '2>', '>>', '&&', '||', '>', '<', '|', ';', '(', ')'].find((o) => script.startsWith(o, i));
      if (op && !(/^[12]/.test(op) && word !== null)) {
        push();
        tokens.push({ op });
        i += op.length;
      } else {
        word = (word ?? '') + c;
        i++;
      }
    }
  }
  push();
  return tokens;
}

interface Simple {
  argv: string[];
  stdoutTo?: { path: string; append: boolean } | 'stderr';
  stderrTo?: { path: string; append: boolean } | 'stdout';
  stdinFrom?: string;
}

/** Splits a token list into `&&`/`||`/`;`-joined pipelines of simple commands. */
function parse(tokens: Token[]): { pipeline: Simple[]; next: string }[] {
  const out: { pipeline: Simple[]; next: string }[] = [];
  let pipeline: Simple[] = [];
  let cur: Simple = { argv: [] };
  const endSimple = () => {
    if (cur.argv.length || cur.stdoutTo || cur.stdinFrom) pipeline.push(cur);
    cur = { argv: [] };
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if ('word' in t) {
      cur.argv.push(t.word);
      continue;
    }
    const target = () => {
      const n = tokens[i + 1];
      i++;
      return n && 'word' in n ? n.word : '';
    };
    switch (t.op) {
      case '>':
      case '>>':
        cur.stdoutTo = { path: target(), append: t.op === '>>' };
        break;
      case '2>':
      case '2>>':
        cur.stderrTo = { path: target(), append: t.op === '2>>' };
        break;
      case '2>&1':
        cur.stderrTo = 'stdout';
        break;
      case '>&2':
      case '1>&2':
        cur.stdoutTo = 'stderr';
        break;
      case '<':
        cur.stdinFrom = target();
        break;
      case '|':
        endSimple();
        break;
      case '(':
      case ')':
        break; // grouping is flattened; the fake's scripts do not depend on subshell scope
      default:
        endSimple();
        out.push({ pipeline, next: t.op });
        pipeline = [];
    }
  }
  endSimple();
  out.push({ pipeline, next: ';' });
  return out.filter((p) => p.pipeline.length);
}

class ExitSignal {
  constructor(readonly code: number) {}
}

async function runScript(script: string, io: Io): Promise<number> {
  let status = 0;
  let skip = false;
  try {
    for (const { pipeline, next } of parse(tokenize(script, io.ctx.env))) {
      if (!skip) status = await runPipeline(pipeline, io);
      skip = (next === '&&' && status !== 0) || (next === '||' && status === 0);
    }
  } catch (e) {
    if (e instanceof ExitSignal) return e.code;
    throw e;
  }
  return status;
}

function writeTo(io: Io, to: { path: string; append: boolean }, data: string): void {
  if (to.path === '/dev/null') return;
  const abs = resolvePath(io.ctx, to.path);
  const prev = to.append ? (io.ctx.fs.files.get(abs) ?? Buffer.alloc(0)) : Buffer.alloc(0);
  io.ctx.fs.files.set(abs, Buffer.concat([prev, Buffer.from(data)]));
}

async function runPipeline(pipeline: Simple[], io: Io): Promise<number> {
  let stdin = io.stdin;
  let status = 0;
  for (let k = 0; k < pipeline.length; k++) {
    const cmd = pipeline[k];
    const last = k === pipeline.length - 1;
    let captured = '';
    const toStderr = (s: string) => (cmd.stderrTo === 'stdout' ? io.out(s) : cmd.stderrTo ? writeTo(io, cmd.stderrTo, s) : io.err(s));
    const out = (s: string) => (cmd.stdoutTo === 'stderr' ? toStderr(s) : cmd.stdoutTo || !last ? (captured += s) : io.out(s));
    const err = (s: string) => (cmd.stderrTo === 'stdout' ? out(s) : toStderr(s));
    if (cmd.stdinFrom !== undefined) stdin = io.ctx.fs.files.get(resolvePath(io.ctx, cmd.stdinFrom))?.toString() ?? '';
    const [name, ...args] = cmd.argv;
    if (name === 'exit') throw new ExitSignal(Number(args[0] ?? status));
    if (name === 'cd') {
      io.ctx.cwd = resolvePath(io.ctx, args[0] ?? '/root');
      status = 0;
    } else if (name === 'export') {
      for (const a of args) {
        const eq = a.indexOf('=');
        if (eq > 0) io.ctx.env[a.slice(0, eq)] = a.slice(eq + 1);
      }
      status = 0;
    } else if (name === undefined) {
      status = 0;
    } else {
      const prog = programs[name.replace(/^\/(usr\/)?s?bin\//, '')];
      if (prog) status = await prog(args, { stdin, out, err, ctx: io.ctx });
      else {
        err(`sh: ${name}: not found\n`);
        status = 127;
      }
    }
    if (cmd.stdoutTo && cmd.stdoutTo !== 'stderr') writeTo(io, cmd.stdoutTo, captured);
    stdin = cmd.stdoutTo ? '' : captured;
  }
  return status;
}

/**
 * Upstream starts a detached command as `sh -c "nohup sh -c '<args, each single-quoted>' > out 2> err & ..."`:
 * the outer quotes cancel the inner ones, so the outer shell re-splits the arguments at their spaces and
 * only the first word reaches `sh -c`. Returns that effective argv (an upstream bug, reproduced).
 */
export function detachedEffectiveArgv(command: string[]): string[] {
  const escaped = command.map((c) => `'${c.replace(/'/g, "'\\''")}'`).join(' ');
  const words: string[] = [];
  for (const t of tokenize(`'${escaped}'`, {})) {
    if ('op' in t) break;
    words.push(t.word);
  }
  return ['sh', '-c', ...words];
}

/** `podman exec <ctr> argv...`: argv[0] is a program, not a shell line. */
export async function execArgv(argv: string[], ctx: ShellContext): Promise<ShellResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdin: '', out: (s) => (stdout += s), err: (s) => (stderr += s), ctx };
  const [name, ...args] = argv;
  const prog = programs[name.replace(/^\/(usr\/)?s?bin\//, '')];
  if (!prog) {
    return {
      stdout: '',
      stderr: `Error: runc: exec failed: unable to start container process: exec: "${name}": executable file not found in $PATH: OCI runtime attempted to invoke a command that was not found\n`,
      exitCode: 127,
    };
  }
  let exitCode: number;
  try {
    exitCode = await prog(args, io);
  } catch (e) {
    if (!(e instanceof ExitSignal)) throw e;
    exitCode = e.code;
  }
  return { stdout, stderr, exitCode };
}

/** A shell line with stderr folded into stdout, as agentkernel's pooled shell runs `(<line>) 2>&1`. */
export async function runLineMerged(line: string, ctx: ShellContext): Promise<string> {
  let merged = '';
  const io: Io = { stdin: '', out: (s) => (merged += s), err: (s) => (merged += s), ctx };
  await runScript(line, io);
  return merged;
}

export function newShellContext(fs: SandboxFs, env: Record<string, string> = {}, cwd = '/'): ShellContext {
  return { fs, env: { ...BASE_ENV, ...env }, cwd };
}
