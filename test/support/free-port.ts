import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

// Ports for servers the tests start come from below the kernel's ephemeral range: a port from inside
// it can be taken by any outgoing connection before the server binds it (and a client connecting to
// a not-yet-listening ephemeral port can even connect to itself).
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function tryBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free loopback TCP port outside the ephemeral range. */
export async function freePort(): Promise<number> {
  const top = Math.min(ephemeralStart(), 65536) - 1;
  const bottom = Math.max(10000, top - 20000);
  for (let i = 0; i < 200; i++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    if (await tryBind(port)) return port;
  }
  throw new Error('no free port found below the ephemeral range');
}
