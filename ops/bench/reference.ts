// The yardstick: the fastest thing Fastify can serve on this machine right
// now. Every other figure is read as a share of it, which cancels out most of
// the machine's noise and speed (the same box varies ±25% between runs).
import Fastify from 'fastify';

export interface ReferenceServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startReference(): Promise<ReferenceServer> {
  // No logger and no plugins: anything more would measure something other than the floor.
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ hello: 'world' }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, stop: () => app.close() };
}
