# syntax=docker/dockerfile:1
# Handout's Slack app on Node 24 (LTS).
#   docker build -t handout .
#   docker run -p 3000:3000 -v handout-data:/data handout      # the embedded default, from nothing
#   docker run --env-file .env -v "$PWD/policy:/app/policy:ro" -e HANDOUT_POLICY_FILE=/app/policy/access.yml \
#     -v handout-data:/data -p 3000:3000 handout
# Settings and secrets come from the environment (or Secrets Manager) when the container starts; the
# image holds none.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# TypeScript 7's compiler is a native binary in an optional dependency, so optional packages stay.
# Compiling needs no install script (better-sqlite3's would try to build a native addon).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-server.mjs scripts/bundle-options.mjs ./scripts/
COPY src ./src
# tsc, then esbuild bundles the server into dist/main.js (its binary is an optional package too).
RUN npm run build

# Production dependencies only. The optional better-sqlite3 is for Nodes without node:sqlite, which
# Node 24 has built in.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
# Everything the app writes lives in the /data volume: the share ledger and, for the embedded default
# (no bucket configured), the shared folder and the generated key pair.
ENV NODE_ENV=production PORT=3000 HANDOUT_LEDGER=sqlite:/data/handout.db \
    HANDOUT_LOCAL_DIR=/data/files HANDOUT_STATE_DIR=/data/.handout
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Mount a volume on /data to keep it when the container is replaced.
RUN mkdir /data && chown 1000:1000 /data
VOLUME /data
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can check it. The app's own files
# stay owned by root, so the app cannot change them.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/healthcheck.js"]
CMD ["node", "dist/main.js"]
