# syntax=docker/dockerfile:1
# Handout's Slack app on Node 24 (LTS). Build: docker build -t handout .
# Run: docker run --env-file .env -v "$PWD/access.yml:/app/access.yml:ro" -p 3000:3000 handout
# Configuration and secrets come from the environment (or Secrets Manager) at run time, never the image.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only. The compilers are for better-sqlite3 (the SQLite ledger), in case no
# prebuilt binary can be downloaded; they stay in this stage.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can check it. The app's files
# stay owned by root: the app cannot change its own code.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/healthcheck.js"]
CMD ["node", "dist/main.js"]
