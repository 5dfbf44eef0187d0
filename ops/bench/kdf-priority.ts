// `node dist/ops/bench/kdf-priority.js`: where should password hashing run?
// Compares, at the configured scrypt cost, the old design (one niced thread),
// the identity actor's niced hashing threads, and libuv's pool (async
// crypto.scrypt, normal priority): hashes/s alone, and hashes/s beside a
// normal-priority CPU-bound thread that stands in for the booking path
// (its work units/s show what hashing takes from bookings).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Hasher } from '../../actors/identity/hasher.js';
import { deriveOnLibuv, type Derive } from '../../actors/identity/password.js';

const usage = `usage: node dist/ops/bench/kdf-priority.js [--hashes N] [--cost C] [--in-flight K] [--rounds R]
  --hashes N     hashes per measurement (default 40)
  --cost C       scrypt cost exponent (default 15, the configured default)
  --in-flight K  hashes at once for the pooled modes (default 2)
  --rounds R     repeat every measurement R times, interleaved (default 1)`;

// A normal-priority thread doing short CPU-bound units (like booking batches) until told to stop.
const FOREGROUND = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let n = 0, stop = false;
parentPort.on('message', () => { stop = true; parentPort.postMessage(n); });
const tick = () => { const end = Date.now() + 5; while (Date.now() < end) { createHash('sha256').update('x'.repeat(1000)).digest(); n++; } if (!stop) setImmediate(tick); };
tick();`;

async function measure(derive: Derive | undefined, count: number, inFlight: number, cost: number, foreground: boolean) {
  const fg = foreground ? new Worker(FOREGROUND, { eval: true }) : undefined;
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next++ < count) await derive!({ password: 'probe', salt: randomBytes(16), N: 2 ** cost, r: 8, p: 1 });
  };
  if (derive) await Promise.all(Array.from({ length: inFlight }, lane));
  else await new Promise((r) => setTimeout(r, 3000));
  const seconds = (performance.now() - started) / 1000;
  const units = fg
    ? await new Promise<number>((r) => {
        fg.once('message', r);
        fg.postMessage('stop');
      })
    : 0;
  await fg?.terminate();
  return { hashesPerSec: derive ? count / seconds : 0, fgUnitsPerSec: units / seconds };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hashes: { type: 'string' },
      cost: { type: 'string' },
      'in-flight': { type: 'string' },
      rounds: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const count = Number(values.hashes ?? 40);
  const cost = Number(values.cost ?? 15);
  const k = Number(values['in-flight'] ?? 2);
  const rounds = Number(values.rounds ?? 1);
  if (![count, cost, k, rounds].every((n) => Number.isInteger(n) && n > 0)) throw new Error(usage);
  const log = pino({ level: 'warn' });
  const old = await Hasher.start(1, cost, 10, log);
  const niced = await Hasher.start(k, cost, 10, log);
  const modes: [string, Derive | undefined, number][] = [
    ['foreground alone', undefined, 0],
    ['1 niced thread (old design)', old.derive, 1],
    [`${k} niced hashing threads (now)`, niced.derive, k],
    [`libuv pool, ${k} in flight, normal priority`, deriveOnLibuv, k],
  ];
  console.log(
    '| mode | round | hashes/s alone | hashes/s beside foreground | foreground units/s |\n| --- | ---: | ---: | ---: | ---: |',
  );
  for (let round = 1; round <= rounds; round++) {
    for (const [name, derive, inFlight] of modes) {
      const alone = derive ? await measure(derive, count, inFlight, cost, false) : undefined;
      const beside = await measure(derive, count, inFlight, cost, true);
      console.log(
        `| ${name} | ${round} | ${alone ? alone.hashesPerSec.toFixed(1) : '–'} | ${derive ? beside.hashesPerSec.toFixed(1) : '–'} | ${beside.fgUnitsPerSec.toFixed(0)} |`,
      );
    }
  }
  await Promise.all([old.close(), niced.close()]);
}

await main();
