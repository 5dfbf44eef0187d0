# syntax=docker/dockerfile:1
# One image for both processes: the edge by default, the supervisor with
#   command: ["node", "--enable-source-maps", "dist/supervisor/main.js"]
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: full deps (typescript is a devDependency) and tsc → dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Lock file first, so source edits don't re-run npm ci.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY protocol ./protocol
COPY platform ./platform
COPY actors ./actors
COPY edge ./edge
COPY supervisor ./supervisor
COPY ops ./ops
RUN node node_modules/typescript/bin/tsc -p tsconfig.json

# --- prod-deps: production dependencies only, in their own stage so the
# runtime image never holds typescript or the npm cache.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    EVENTLY_HTTP_HOST=0.0.0.0 \
    EVENTLY_HTTP_PORT=3000 \
    EVENTLY_ADMIN_PORT=3001
WORKDIR /app
# Files stay root-owned and the process runs as `node`: it can read its code
# but not rewrite it.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations are read at run time from dist/supervisor/../../ops/migrations, mail templates likewise.
COPY ops/migrations ./ops/migrations
# The dashboard's page and scripts are served from the sources (dist/edge/dashboard/../../../edge/dashboard/public).
COPY edge/dashboard/public ./edge/dashboard/public
COPY actors/mailer/templates ./actors/mailer/templates
USER node
EXPOSE 3000 3001
# Exec form: node is PID 1's child under `init: true` (compose) and gets
# SIGTERM directly, which runProcess turns into a graceful stop.
CMD ["node", "--enable-source-maps", "dist/edge/main.js"]
