// The embedded default's mail server: an SMTP sink (smtp-server) on
// 127.0.0.1 that accepts every message and keeps it as one .eml file in a
// folder, where a developer opens it in any mail client or reads it as text.
// Nothing is relayed anywhere. It runs in the process that started the stack
// (npm start, or a test), and can be paused, refusing connections as a dead
// SMTP server would, and resumed on the same port.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface MailSinkOptions {
  /** Where the .eml files go; created if missing. */
  dir: string;
  /** 0: any free port. */
  port: number;
  log: (msg: string) => void;
}

export interface MailSink {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  readonly url: string;
  readonly dir: string;
  /** Stops listening: senders get "connection refused" until resume(). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const HOST = '127.0.0.1';

export async function startMailSink({ dir, port, log }: MailSinkOptions): Promise<MailSink> {
  await mkdir(dir, { recursive: true });
  let received = 0;

  /** Written whole under a temporary name, then renamed: a reader never sees half a message. */
  async function keep(message: Buffer): Promise<string> {
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${++received}.eml`;
    await writeFile(join(dir, `.${name}.part`), message);
    await rename(join(dir, `.${name}.part`), join(dir, name));
    return name;
  }

  const listen = async (): Promise<SMTPServer> => {
    const server = new SMTPServer({
      // Loopback only, for local development: no TLS to offer, no accounts to check.
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      size: MAX_MESSAGE_BYTES,
      logger: false,
      closeTimeout: 1_000,
      onAuth: (_auth, _session, callback) => callback(null, { user: 'sink' }),
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', callback);
        stream.on('end', () => {
          if (stream.sizeExceeded) {
            callback(Object.assign(new Error('message too large'), { responseCode: 552 }));
            return;
          }
          keep(Buffer.concat(chunks)).then((name) => callback(null, `kept as ${name}`), callback);
        });
      },
    });
    server.on('error', (err: Error) => log(`mail sink error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, HOST, () => resolve());
    });
    return server;
  };
  const close = (server: SMTPServer) => new Promise<void>((resolve) => server.close(() => resolve()));

  let server: SMTPServer | undefined = await listen();
  // Port 0 asked for any free port; a resume takes the same one again.
  port = (server.server.address() as { port: number }).port;
  log(`mail sink ready at smtp://${HOST}:${port}, keeping messages in ${dir}`);
  const pause = async () => {
    const running = server;
    server = undefined;
    if (running) await close(running);
  };
  return {
    url: `smtp://${HOST}:${port}`,
    dir,
    pause,
    async resume() {
      server ??= await listen();
    },
    stop: pause,
  };
}
