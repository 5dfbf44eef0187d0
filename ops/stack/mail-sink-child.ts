// The mail sink's own process (see mail-sink-process.ts): runs the sink and
// answers its parent's pause, resume and stop over the IPC channel. It exits
// when the parent goes, however the parent went.
import { startMailSink } from './mail-sink.js';

export type SinkCommand = { id: number; op: 'pause' | 'resume' | 'stop' };
export type SinkReply = { ready: true; url: string; dir: string } | { id: number; done: true } | { failed: string };

const [dir, port] = process.argv.slice(2);
const send = (reply: SinkReply) => process.send?.(reply);
process.on('disconnect', () => process.exit(0));
// The parent decides when the sink stops; a Ctrl-C to the group must not beat its orderly stop.
process.on('SIGINT', () => undefined);

try {
  const sink = await startMailSink({ dir: dir ?? '.', port: Number(port ?? 0), log: () => undefined });
  process.on('message', (command: SinkCommand) => {
    const step = command.op === 'pause' ? sink.pause() : command.op === 'resume' ? sink.resume() : sink.stop();
    void step.then(
      () => {
        send({ id: command.id, done: true });
        if (command.op === 'stop') process.disconnect();
      },
      (err: unknown) => send({ failed: err instanceof Error ? err.message : String(err) }),
    );
  });
  send({ ready: true, url: sink.url, dir: sink.dir });
} catch (err) {
  send({ failed: (err as Error).message });
  process.exit(1);
}
