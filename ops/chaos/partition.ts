// A network partition between a supervisor and NATS, mid-sale. Two
// supervisor processes, each in a network namespace of its own, reach NATS,
// Postgres and Redis over a bridge (ops/chaos/netns.ts, through
// ops/chaos/forward.ts since the servers listen on loopback); the edge runs
// here. The supervisor serving the sale's shard is cut off from NATS until
// the other has claimed its shards, then healed. Proven from the supervisors'
// logs: the cut-off one stopped serving each shard (fenced, with its lease
// revision) before the other claimed it (with the new revision).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { shardOf } from '../../protocol/index.js';
import { envOf, SUPERVISOR_SETTINGS, withOverrides, type Config } from '../../platform/config.js';
import { startEdge } from '../../edge/server.js';
import { freePort } from '../stack/probes.js';
import { secretIn } from '../stack/secrets.js';
import { makeNamespaces, type Namespaces } from './netns.js';
import { adminToken, chaosConfig, saleWithFault, type SaleOptions } from './run.js';
import { startChaosServers, type ChaosServers } from './servers.js';
import { tallySale, type FaultRow } from './tally.js';

const SUPERVISOR_MAIN = new URL('../../supervisor/main.js', import.meta.url).pathname;
const FORWARD_MAIN = new URL('./forward.js', import.meta.url).pathname;
/** How long a state may take on a busy two-core machine before the drill calls it missing. */
const PATIENCE_MS = 120_000;

interface LogLine {
  time: number;
  msg: string;
  shard?: number;
  revision?: number;
  held?: number[];
}

/** A child process whose JSON log lines are kept (and written to a file) for the evidence. */
interface Child {
  name: string;
  proc: ChildProcess;
  lines: LogLine[];
  tail(): string;
  stop(): Promise<void>;
}

function spawnLogged(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Child {
  const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(logFile);
  const lines: LogLine[] = [];
  let partial = '';
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-3000);
  };
  proc.stdout.on('data', (chunk: Buffer) => {
    file.write(chunk);
    keep(chunk);
    const text = partial + chunk.toString();
    const all = text.split('\n');
    partial = all.pop() ?? '';
    for (const line of all) {
      try {
        const j = JSON.parse(line) as Omit<LogLine, 'time'> & { time: string | number };
        lines.push({ ...j, time: new Date(j.time).getTime() });
      } catch {
        lines.push({ time: Date.now(), msg: line });
      }
    }
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    file.write(chunk);
    keep(chunk);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    name,
    proc,
    lines,
    tail: () => tail,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      file.end();
    },
  };
}

async function waitFor(what: string, check: () => boolean, children: Child[]): Promise<void> {
  const began = Date.now();
  while (!check()) {
    for (const c of children)
      if (c.proc.exitCode !== null) {
        throw new Error(`${c.name} exited (${c.proc.exitCode}) while waiting for ${what}; it said:\n${c.tail()}`);
      }
    if (Date.now() - began > PATIENCE_MS) throw new Error(`${what}: not within ${PATIENCE_MS} ms`);
    await sleep(50);
  }
}

/** The shards a supervisor said it held last. */
const heldBy = (c: Child): number[] => [...c.lines].reverse().find((l) => l.msg === 'shard leases changed')?.held ?? [];

function supervisorEnv(config: Config, ns: Namespaces, servers: ChaosServers, leaseTtlMs: number): NodeJS.ProcessEnv {
  const via = (url: string, host: string) => url.replace('127.0.0.1', host);
  const joined = withOverrides(config, {
    natsUrl: via(servers.natsUrl, ns.natsHost),
    redisUrl: via(servers.redisUrl, ns.dataHost),
    databaseUrl: via(servers.databaseUrl, ns.dataHost),
    leaseTtlMs,
    adminPort: 0,
    logLevel: 'info',
    identityNice: 0,
  });
  return {
    PATH: process.env.PATH,
    ...envOf(joined, SUPERVISOR_SETTINGS),
  };
}

/** For each shard the victim fenced: fenced (and its threads stopped) before the survivor claimed it? */
function noTwoWriters(
  victim: Child,
  survivor: Child,
  shard: number,
  since: number,
  began: number,
): { ok: boolean; notes: string[] } {
  const at = (t: number) => `+${((t - began) / 1000).toFixed(1)} s`;
  const notes = [`(times from the start of the sale) ${victim.name} cut off from NATS at ${at(since)}`];
  const fences = victim.lines.filter((l) => l.time >= since && l.msg.startsWith('shard lease not renewed in time'));
  const stopped = victim.lines.filter((l) => l.time >= since && l.msg === 'fenced: thread ended');
  const lastStop = Math.max(...stopped.map((l) => l.time));
  let ok = fences.length > 0;
  if (!ok) {
    // Without a fence: when each side changed its mind about the sale's shard.
    const changes = (c: Child) => c.lines.filter((l) => l.time >= since && l.msg === 'shard leases changed');
    const took = changes(survivor).find((l) => l.held?.includes(shard));
    const gaveUp = victim.lines.find(
      (l) => l.time >= since && l.msg === 'shard leases changed' && !l.held?.includes(shard),
    );
    notes.push(
      `the cut-off supervisor logged no fence; ${survivor.name} took shard ${shard} at ` +
        `${took ? at(took.time) : 'never'}, ${victim.name} gave it up at ${gaveUp ? at(gaveUp.time) : 'never'}` +
        (took && (!gaveUp || gaveUp.time > took.time) ? ' — **TWO WRITERS** meanwhile' : ''),
    );
  }
  for (const f of fences) {
    const claim = survivor.lines.find((l) => l.time >= since && l.msg === 'shard lease claimed' && l.shard === f.shard);
    const before = claim !== undefined && f.time < claim.time && lastStop < claim.time;
    // The claimer serves it only after the claim grace (lease-keeper.ts).
    const serves =
      claim &&
      survivor.lines.find(
        (l) =>
          l.time >= claim.time &&
          l.msg === 'shard leases changed' &&
          f.shard !== undefined &&
          l.held?.includes(f.shard),
      );
    ok &&= before || claim === undefined;
    notes.push(
      `shard ${f.shard}: ${victim.name} fenced it at ${at(f.time)} (its revision ${f.revision}), ` +
        (claim
          ? `${survivor.name} claimed it at ${at(claim.time)} (revision ${claim.revision})` +
            (serves ? ` and served it from ${at(serves.time)}` : '')
          : `${survivor.name} did not claim it`) +
        (before ? '' : claim ? ' — **TWO WRITERS**' : ''),
    );
  }
  if (stopped.length > 0)
    notes.push(`${victim.name}'s fenced threads had all ended by ${at(lastStop)} (${stopped.length} threads)`);
  return { ok, notes };
}

export async function runPartition(o: SaleOptions & { leaseTtlMs: number }): Promise<FaultRow> {
  const dataDir = await mkdtemp(join(tmpdir(), 'evently-partition-'));
  const undo: (() => Promise<unknown>)[] = [async () => rm(dataDir, { recursive: true, force: true })];
  try {
    await chmod(dataDir, 0o755);
    const servers = await startChaosServers(dataDir, (msg) => o.log.info(msg));
    undo.push(() => servers.stop());
    const ns = await makeNamespaces(2);
    undo.push(() => ns.remove());
    const forwarder = spawnLogged(
      'forwarder',
      process.execPath,
      [
        FORWARD_MAIN,
        `${ns.dataHost}:${servers.ports.postgres}=${servers.ports.postgres}`,
        `${ns.dataHost}:${servers.ports.redis}=${servers.ports.redis}`,
        `${ns.natsHost}:${servers.ports.nats}=${servers.ports.nats}`,
      ],
      { PATH: process.env.PATH },
      join(dataDir, 'forwarder.log'),
    );
    undo.push(() => forwarder.stop());
    await waitFor('the forwarder', () => forwarder.lines.filter((l) => l.msg.startsWith('forwarding')).length === 3, [
      forwarder,
    ]);

    const httpPort = await freePort();
    const config = chaosConfig(servers, dataDir, o.log.level, {
      httpPort,
      ticketSecret: randomBytes(32).toString('base64url'),
      identityKey: await secretIn(dataDir, 'identity-key'),
      publicUrl: `http://127.0.0.1:${httpPort}`,
    });
    const env = supervisorEnv(config, ns, servers, o.leaseTtlMs);
    const supervisors: Child[] = [];
    for (const [i, name] of ns.names.entries()) {
      // One after the other: the first migrates the schema alone.
      const s = spawnLogged(
        `supervisor ${'AB'[i]}`,
        'ip',
        ['netns', 'exec', name, process.execPath, SUPERVISOR_MAIN],
        env,
        join(dataDir, `supervisor-${i}.log`),
      );
      undo.push(() => s.stop());
      supervisors.push(s);
      await waitFor(`${s.name} running`, () => s.lines.some((l) => l.msg === 'supervisor running'), supervisors);
    }
    await waitFor(
      'the shards split between the supervisors',
      () => supervisors.every((s) => heldBy(s).length === config.shards / 2),
      supervisors,
    );
    const edge = await startEdge(config, o.log);
    undo.push(() => edge.stop());
    const token = await adminToken(edge.url, config.adminEmail, config.adminPassword);

    let victim: Child | undefined;
    let survivor: Child | undefined;
    let cutAt = 0;
    const began = Date.now();
    const { eventId, sale, window } = await saleWithFault(
      { ...o, url: edge.url, token, label: 'partition' },
      async (id) => {
        const shard = shardOf(id, config.shards);
        const v = supervisors.findIndex((s) => heldBy(s).includes(shard));
        if (v < 0) throw new Error(`nobody holds shard ${shard}`);
        const [cut, other, cutNs] = [supervisors[v], supervisors[1 - v], ns.names[v]];
        if (!cut || !other || !cutNs) throw new Error('the partition drill needs two supervisors in two namespaces');
        [victim, survivor] = [cut, other];
        cutAt = Date.now();
        await ns.partition(cutNs);
        try {
          await waitFor(`${survivor.name} claiming shard ${shard}`, () => heldBy(other).includes(shard), [other]);
        } finally {
          await ns.heal(cutNs);
        }
      },
    );
    // Back to half each: the healed supervisor announces itself and takes its share again.
    await waitFor(
      'the shards split again after the heal',
      () => supervisors.every((s) => heldBy(s).length === config.shards / 2),
      supervisors,
    ).catch((err: unknown) => o.log.warn({ err }, 'partition: the shards did not split again'));
    if (!victim || !survivor) throw new Error('partition: the fault never struck');
    const evidence = noTwoWriters(victim, survivor, shardOf(eventId, config.shards), cutAt, began);
    const db = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
    try {
      const row = await tallySale(
        db,
        eventId,
        `partition ${victim.name} from NATS (lease TTL ${o.leaseTtlMs / 1000} s)`,
        sale,
        window,
        evidence.notes,
      );
      return { ...row, ok: row.ok && evidence.ok };
    } finally {
      await db.end();
    }
  } finally {
    for (const step of undo.reverse())
      await step().catch((err: unknown) => o.log.warn({ err }, 'partition: clean-up step failed'));
  }
}
