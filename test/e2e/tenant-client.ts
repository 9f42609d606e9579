// How a tenant reaches the test host: HTTPS to the stack's domain, which is not in DNS. Every
// connection goes to the host's address with the domain as SNI and Host (what curl --resolve does),
// trusting only Caddy's internal root CA. The official SDK uses the global fetch, so this is installed
// as the global dispatcher for the test process.
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import type { LookupFunction } from 'node:net';

export function routeDomainTo(address: string, caPem: string): { restore(): void } {
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  };
  const previous: Dispatcher = getGlobalDispatcher();
  const agent = new Agent({ connect: { ca: caPem, lookup } });
  setGlobalDispatcher(agent);
  return {
    restore() {
      setGlobalDispatcher(previous);
      void agent.close();
    },
  };
}
