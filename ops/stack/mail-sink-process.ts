// The embedded mail sink in a process of its own, at a lower OS priority:
// parsing and filing thousands of mails after a flash sale is background
// work, and in the starting process it would share the edge's event loop.
// Same interface as the in-process sink (mail-sink.ts), so callers and tests
// cannot tell the difference.
import { fork } from 'node:child_process';
import { setPriority } from 'node:os';
import type { MailSink, MailSinkOptions } from './mail-sink.js';
import type { SinkCommand, SinkReply } from './mail-sink-child.js';

const CHILD = new URL('./mail-sink-child.js', import.meta.url);
const SINK_NICE = 10;

export async function startMailSinkProcess({ dir, port, log }: MailSinkOptions): Promise<MailSink> {
  const child = fork(CHILD, [dir, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    if (child.pid !== undefined) setPriority(child.pid, SINK_NICE);
  } catch {
    // Without the right to renice, the sink still works; it just competes for the CPU.
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Extract<SinkReply, { ready: true }>>((resolve, reject) => {
    child.once('message', (reply: SinkReply) =>
      'ready' in reply
        ? resolve(reply)
        : reject(new Error(`mail sink: ${'failed' in reply ? reply.failed : 'no start'}`)),
    );
    child.once('exit', (code) => reject(new Error(`mail sink process exited (${code}) before it was ready`)));
  });
  log(`mail sink ready at ${ready.url} (process ${child.pid}), keeping messages in ${ready.dir}`);

  let next = 0;
  const ask = (op: SinkCommand['op']): Promise<void> => {
    if (!child.connected) return Promise.resolve();
    const id = ++next;
    return new Promise((resolve, reject) => {
      const onReply = (reply: SinkReply) => {
        if ('id' in reply && reply.id === id) {
          child.off('message', onReply);
          resolve();
        } else if ('failed' in reply) {
          child.off('message', onReply);
          reject(new Error(`mail sink ${op}: ${reply.failed}`));
        }
      };
      child.on('message', onReply);
      child.send({ id, op } satisfies SinkCommand);
    });
  };
  return {
    url: ready.url,
    dir: ready.dir,
    pause: () => ask('pause'),
    resume: () => ask('resume'),
    async stop() {
      await ask('stop').catch(() => undefined);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
