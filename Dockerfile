# syntax=docker/dockerfile:1
# Image of the worker and the gateway (docker-compose.yml picks the command). Debian rather than Alpine:
# @temporalio/core-bridge ships native builds for glibc Linux only.
ARG NODE_IMAGE=node:20.18.1-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm run build: src/ to lib/ (tsc -p tsconfig.build.json) and the workflows bundled into lib/workflow-bundle.js, which
# lib/worker.js runs instead of bundling them at each start; then drop the compiler, linters and test tools.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
ENV CONNECTOR_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
# The data volume is mounted here; a named volume takes this ownership on first use.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
CMD ["node", "lib/worker.js"]
