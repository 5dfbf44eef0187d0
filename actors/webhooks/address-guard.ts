// The SSRF guard. A webhook URL is chosen by an admin but fetched from inside
// the network, so it must not reach loopback, private, link-local (cloud
// metadata lives at 169.254.169.254 and fd00:ec2::254) or otherwise
// non-public addresses, unless an operator listed the host (or host:port) in
// EVENTLY_WEBHOOK_ALLOW_HOSTS. The check runs at registration (a clear 400)
// and again at every send, inside the HTTP client's own DNS lookup, so the
// address checked is the address connected to: a name that re-resolves to a
// private address after registration (DNS rebinding) is still refused.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Why an address may not be sent to, or undefined when it is a public unicast address. */
export function addressProblem(address: string): string | undefined {
  const mapped = MAPPED_V4.exec(address)?.[1];
  const ip = mapped ?? address.replace(/^\[|\]$/g, '');
  const family = isIP(ip);
  if (family === 0) return `${address} is not an IP address`;
  return blocked.check(ip, family === 4 ? 'ipv4' : 'ipv6')
    ? `${address} is a loopback, private, link-local or reserved address`
    : undefined;
}

export class AddressRefused extends Error {
  override name = 'AddressRefused';
}

/** The allow-list, matched against the URL's host and host:port (default ports spelled out). */
export function isAllowedHost(url: URL, allowHosts: readonly string[]): boolean {
  if (allowHosts.length === 0) return false;
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const allowed = new Set(allowHosts.map((h) => h.toLowerCase()));
  return allowed.has(host) || allowed.has(`${host}:${port}`);
}

const resolveAll = (hostname: string): Promise<LookupAddress[]> =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/** Every address the name resolves to must be public; one private answer refuses the name. */
async function publicAddresses(hostname: string): Promise<LookupAddress[]> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await resolveAll(bare);
  for (const { address } of addresses) {
    const problem = addressProblem(address);
    if (problem) throw new AddressRefused(bare === address ? problem : `${hostname} resolves to ${problem}`);
  }
  if (addresses.length === 0) throw new AddressRefused(`${hostname} does not resolve`);
  return addresses;
}

/** Registration: undefined when the URL may be used, else why not (for a 400 naming the field). */
export async function urlProblem(raw: string, allowHosts: readonly string[]): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must use http or https';
  if (url.username || url.password) return 'url must not carry credentials';
  if (isAllowedHost(url, allowHosts)) return undefined;
  try {
    await publicAddresses(url.hostname);
    return undefined;
  } catch (err) {
    return err instanceof AddressRefused ? `url refused: ${err.message}` : `url host ${url.hostname} does not resolve`;
  }
}

/** Send time, for an IP-literal host (no lookup happens for those, so the hook below never sees them). */
export function literalProblem(url: URL): string | undefined {
  const bare = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(bare) ? addressProblem(bare) : undefined;
}

/** net.connect's lookup hook: resolves, refuses non-public answers, and hands back only checked addresses. */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  publicAddresses(hostname).then(
    (addresses) => {
      const family = typeof options.family === 'number' ? options.family : 0;
      const wanted = family === 0 ? addresses : addresses.filter((a) => a.family === family);
      if (options.all) {
        (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, wanted);
        return;
      }
      const first = wanted[0];
      if (!first) {
        callback(new AddressRefused(`${hostname} has no IPv${family} address`), '', 0);
        return;
      }
      callback(null, first.address, first.family);
    },
    (err: NodeJS.ErrnoException) => callback(err, '', 0),
  );
};
