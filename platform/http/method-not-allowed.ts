// 405 for a known path asked with a method it does not serve, with the
// `allow` header RFC 9110 asks for; 404 stays for paths nobody serves. Every
// route is recorded as it is added (onRoute), so routes added later are
// covered without a list to keep in step.
import type { FastifyInstance } from 'fastify';

interface Known {
  pattern: RegExp;
  methods: Set<string>;
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** `/v1/events/:id/bookings` → a regex of the paths it serves; `*` matches the rest. */
function compile(url: string): RegExp {
  const parts = url.split('/').map((part) => {
    if (part === '*') return '.*';
    if (part.startsWith(':')) return '[^/]+';
    return escape(part).replace(/\\\*$/, '.*');
  });
  return new RegExp(`^${parts.join('/')}/?$`);
}

/** Records each route; returns a lookup of the methods a path is served with. */
export function trackRoutes(app: FastifyInstance): (path: string) => string[] {
  const known = new Map<string, Known>();
  app.addHook('onRoute', (route) => {
    // A catch-all (CORS preflight answers OPTIONS on `*`) says nothing about which paths exist.
    if (route.url === '*' || route.url === '/*') return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let entry = known.get(route.url);
    if (!entry) known.set(route.url, (entry = { pattern: compile(route.url), methods: new Set() }));
    for (const m of methods) entry.methods.add(m.toUpperCase());
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const { pattern, methods } of known.values()) {
      if (pattern.test(path)) for (const m of methods) allowed.add(m);
    }
    return [...allowed].sort();
  };
}
