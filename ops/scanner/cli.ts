// A small offline door scanner. It keeps its state in one JSON file:
//   sync    download the published keys and the event's revocations (online)
//   scan    verify codes offline and queue the admitted ones
//   upload  send the queued scans to POST /v1/checkin/batch (online)
// Run `node dist/ops/scanner/cli.js --help`.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { BatchResults, KeyList, RevokedList } from '../../protocol/index.js';
import { applyKeys, applyRevocations, freshState, OfflineVerifier, type ScannerState } from './offline.js';

const usage = `usage: node dist/ops/scanner/cli.js <command> --state FILE [options] [codes...]

An offline ticket scanner for one event's door. Its state (keys, revocations,
scans not yet uploaded) lives in the --state file.

Commands:
  sync     download the keys and the event's revocations since the last sync
           (the first sync needs --url, --event and --gate; --token always)
  scan     verify each code given (or each line on standard input) offline;
           prints one JSON line per code: {"result":"ok"|"INVALID_TICKET"|...}
  upload   upload the queued scans; prints the server's results as JSON

Options:
  --state FILE   the scanner's state file (required)
  --url URL      Evently's base URL, e.g. http://127.0.0.1:3000
  --event ID     the event this door admits
  --gate NAME    this scanner's gate name
  --token JWT    a staff (or admin) bearer token, for sync and upload
  --help         print this and exit`;

async function load(file: string): Promise<ScannerState | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ScannerState;
  } catch {
    return undefined;
  }
}

/** Written whole to a temporary file and renamed, so a crash never leaves half a state. */
async function save(file: string, state: ScannerState): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 1));
  await rename(`${file}.tmp`, file);
}

async function call<T>(state: ScannerState, token: string | undefined, path: string, body?: unknown): Promise<T> {
  if (!token) throw new Error('--token is required to talk to the server');
  const res = await fetch(state.url.replace(/\/+$/, '') + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      url: { type: 'string' },
      event: { type: 'string' },
      gate: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const [command, ...codes] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  if (!values.state) throw new Error('--state FILE is required');
  let state = await load(values.state);
  if (command === 'sync') {
    if (!state) {
      if (!values.url || !values.event || !values.gate)
        throw new Error('the first sync needs --url, --event and --gate');
      state = freshState(values.url, values.event, values.gate);
    }
    applyKeys(state, await call<KeyList>(state, values.token, '/v1/checkin/keys'));
    const since = state.revokedUntil ? `?since=${encodeURIComponent(state.revokedUntil)}` : '';
    applyRevocations(
      state,
      await call<RevokedList>(state, values.token, `/v1/events/${state.eventId}/checkin/revoked${since}`),
    );
    await save(values.state, state);
    console.log(
      JSON.stringify({
        keys: state.keys.length,
        revoked: Object.keys(state.revoked).length,
        until: state.revokedUntil,
      }),
    );
    return 0;
  }
  if (!state) throw new Error(`no state in ${values.state}: run sync first`);
  if (command === 'scan') {
    const verifier = new OfflineVerifier(state);
    const input =
      codes.length > 0
        ? codes
        : (await readStdin())
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean);
    for (const code of input) console.log(JSON.stringify(verifier.scan(code)));
    await save(values.state, state);
    return 0;
  }
  if (command === 'upload') {
    const scans = state.pending;
    if (scans.length === 0) {
      console.log(JSON.stringify({ results: [] }));
      return 0;
    }
    // Nonces make a retried upload safe: the queue is cleared only after the server answered.
    const answer = await call<BatchResults>(state, values.token, '/v1/checkin/batch', { scans });
    state.pending = state.pending.slice(scans.length);
    await save(values.state, state);
    console.log(JSON.stringify(answer));
    return 0;
  }
  throw new Error(`unknown command ${command} (sync, scan, upload)`);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`scanner: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
