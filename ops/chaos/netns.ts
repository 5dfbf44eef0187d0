// Network namespaces for a partition drill, made with `ip` (root only): a
// bridge in the host namespace with two addresses, one for NATS and one for
// Postgres and Redis, and per namespace a veth pair onto the bridge. A
// partition is a blackhole route to the NATS address inside one namespace:
// its packets to NATS vanish, while Postgres and Redis stay reachable.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = (...args: string[]) => run('ip', args);

export interface Namespaces {
  /** Address of Postgres and Redis (through the forwarder) as seen from the namespaces. */
  dataHost: string;
  /** Address of NATS as seen from the namespaces. */
  natsHost: string;
  names: string[];
  partition(ns: string): Promise<void>;
  heal(ns: string): Promise<void>;
  /** Removes the namespaces, the veths and the bridge; safe to call twice, never throws. */
  remove(): Promise<void>;
}

/** Why namespaces cannot be made here, or null if they can (a throw-away namespace is made and removed). */
export async function namespacesUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  const probe = `evently-probe-${randomBytes(3).toString('hex')}`;
  try {
    await ip('netns', 'add', probe);
    await ip('netns', 'del', probe);
    return null;
  } catch (err) {
    return `ip netns add failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

export async function makeNamespaces(count: number): Promise<Namespaces> {
  const id = randomBytes(2).toString('hex');
  // A /24 of its own per run, so two drills on one machine do not collide.
  const net = `10.${200 + (parseInt(id, 16) % 50)}.${parseInt(id.slice(2), 16)}`;
  const bridge = `evc${id}br`;
  const names = Array.from({ length: count }, (_, i) => `evently-chaos-${id}-${i}`);
  const made: (() => Promise<unknown>)[] = [];
  const remove = async () => {
    for (const undo of made.splice(0).reverse()) await undo().catch(() => undefined);
  };
  try {
    await ip('link', 'add', bridge, 'type', 'bridge');
    made.push(() => ip('link', 'del', bridge));
    await ip('addr', 'add', `${net}.1/24`, 'dev', bridge);
    await ip('addr', 'add', `${net}.254/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
    for (const [i, ns] of names.entries()) {
      const host = `evc${id}h${i}`;
      await ip('netns', 'add', ns);
      made.push(() => ip('netns', 'del', ns));
      await ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      made.push(() => ip('link', 'del', host));
      await ip('link', 'set', host, 'master', bridge, 'up');
      await ip('-n', ns, 'addr', 'add', `${net}.${10 + i}/24`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    await remove();
    throw err;
  }
  const natsHost = `${net}.254`;
  return {
    dataHost: `${net}.1`,
    natsHost,
    names,
    partition: async (ns) => {
      await ip('-n', ns, 'route', 'add', 'blackhole', `${natsHost}/32`);
    },
    heal: async (ns) => {
      await ip('-n', ns, 'route', 'del', 'blackhole', `${natsHost}/32`);
    },
    remove,
  };
}
