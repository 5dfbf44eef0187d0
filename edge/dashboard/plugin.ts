// GET /dashboard: the admins' live analytics page. Plain HTML, CSS and ES
// modules from edge/dashboard/public, read once at start (a handful of small
// files; no build step, no file-serving plugin). The page holds no secret:
// it asks for an admin token and sends it as a bearer to the analytics API
// and in the WebSocket `auth` message, which is where admin is enforced.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../../platform/http/problems.js';

/** Read from the sources, not dist/: tsc compiles only the TypeScript. */
export const DASHBOARD_FILES = fileURLToPath(new URL('../../../edge/dashboard/public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The API's policy allows nothing; the page needs its own scripts, styles and
 * icon, and fetch/WebSocket to this origin ('self' covers ws: and wss: of the
 * same host). Still no inline script or style, no other origin, no framing.
 */
export const DASHBOARD_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const name of await readdir(DASHBOARD_FILES)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = await readFile(join(DASHBOARD_FILES, name));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

/** Revalidated on every load, so a new deploy is picked up at once; unchanged files cost a 304. */
function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply.header('etag', asset.etag).header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  const assets = await loadAssets();
  const page = assets.get('index.html');
  if (!page) throw new Error(`dashboard page missing: ${join(DASHBOARD_FILES, 'index.html')}`);

  app.get(
    '/dashboard',
    {
      config: { csp: DASHBOARD_CSP },
      schema: {
        tags: ['admin'],
        summary: 'The live analytics dashboard (an HTML page for admins)',
        description:
          'Totals, top events, utilization, bookings per second, sell-out predictions and alerts, live over `/ws`. ' +
          'The page itself is public; it asks for an admin token (or reads `#token=` from the URL fragment) and uses it for ' +
          '`GET /v1/admin/analytics/summary` and the WebSocket `subscribe-dashboard` message.',
      },
    },
    async (request, reply) => send(request, reply, page),
  );

  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    {
      config: { csp: DASHBOARD_CSP },
      // The page's own scripts and styles: not part of the API.
      schema: { hide: true },
    },
    async (request, reply) => {
      const asset = request.params.file === 'index.html' ? undefined : assets.get(request.params.file);
      return asset
        ? send(request, reply, asset)
        : sendProblem(reply, 'NOT_FOUND', `no dashboard file ${request.params.file.slice(0, 80)}`);
    },
  );
};
