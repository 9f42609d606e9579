// Runs one command over SSH with a hard deadline, for the dynamic providers (serialized by Pulumi:
// ssh2 is loaded with a dynamic import inside the function, nothing is captured from this module).

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey: string;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Resolves with the command's exit code and output; rejects on connect failure or after timeoutMs. */
export async function sshRun(target: SshTarget, command: string, timeoutMs: number): Promise<SshResult> {
  const ssh2 = await import('ssh2');
  const Client = ssh2.Client ?? (ssh2 as unknown as { default: typeof ssh2 }).default.Client;
  return new Promise((resolve, reject) => {
    const client = new Client();
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`ssh ${target.user}@${target.host}:${target.port}: no result within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (err: Error | undefined, result?: SshResult) => {
      clearTimeout(timer);
      client.end();
      if (err) reject(err);
      else resolve(result!);
    };
    client
      .on('ready', () => {
        client.exec(command, (err, stream) => {
          if (err) return finish(err);
          stream
            .on('data', (d: Buffer) => (stdout += d.toString()))
            .on('close', (code: number | null) => finish(undefined, { code: code ?? -1, stdout, stderr }));
          stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        });
      })
      .on('error', (err) => finish(new Error(`ssh ${target.user}@${target.host}:${target.port}: ${err.message}`)))
      .connect({
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey: target.privateKey,
        readyTimeout: Math.min(timeoutMs, 20_000),
        // A freshly booted rescue or installed system has new host keys every time.
        hostVerifier: () => true,
      });
  });
}

/**
 * Polls until `probe` prints `expect` (trimmed) over SSH, or fails after deadlineMs with the last
 * thing seen. Connection errors while the machine reboots are expected and retried.
 */
export async function sshWaitFor(target: SshTarget, probe: string, expect: string, deadlineMs: number, pollMs: number, what: string): Promise<void> {
  const started = Date.now();
  let last = 'nothing yet';
  while (Date.now() - started < deadlineMs) {
    try {
      const r = await sshRun(target, probe, Math.max(1000, Math.min(30_000, deadlineMs - (Date.now() - started))));
      if (r.stdout.trim() === expect) return;
      last = `probe printed ${JSON.stringify(r.stdout.trim().slice(0, 100))}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`${what}: not reached within ${Math.round(deadlineMs / 1000)} s (last: ${last})`);
}
