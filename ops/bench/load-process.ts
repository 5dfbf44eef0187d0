// The load generator's own process: it reads one LoadSpec as JSON on stdin,
// runs it with autocannon and writes the Measurement as JSON on stdout. The
// reference and every scenario are measured this way, so the client never
// shares an event loop with the server it measures.
import { runLoadHere, type LoadSpec } from './load.js';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  input += chunk;
});
process.stdin.on('end', () => {
  runLoadHere(JSON.parse(input) as LoadSpec)
    .then((m) => process.stdout.write(JSON.stringify(m)))
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    });
});
