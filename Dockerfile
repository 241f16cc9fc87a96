#
# The sales-training bot. `docker compose up -d` builds it; docs/deploy.md is the operator's guide.
#
# Build arguments:
#   EMBEDDING_MODEL  the embedding model baked into the image (the same id as EMBEDDING_MODEL in .env)
#   PRELOAD_MODEL    true: download that model at build time, so a container never needs the model hub
#   HF_ENDPOINT      a mirror of huggingface.co, for build hosts that cannot reach the hub
#   NODE_IMAGE       the Node.js base image (for a private registry's copy of node:22-bookworm-slim)
#
# No secret is ever baked in: tokens, keys and passwords come from .env at run time. The image runs
# built JavaScript only (`node dist/...`): no npm, no tsx, no TypeScript sources.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: dev dependencies, TypeScript → dist/ ----------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node would otherwise fetch CUDA libraries: embeddings run on the CPU.
ENV ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
# The lockfile installs onnxruntime-web from this empty local package (package.json `overrides`).
COPY vendor ./vendor
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only, non-root ------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    DATA_DIR=/app/data \
    MODELS_DIR=/app/models \
    HEALTH_PORT=8080
WORKDIR /app

# jemalloc instead of glibc's malloc: after a busy hour glibc keeps the freed network buffers of
# hundreds of dialogues (RSS stayed 17–25% above its level before a 200-trainee load), jemalloc hands
# them back (docs/reliability.md, the load case). The link gives LD_PRELOAD one path on every CPU.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjemalloc2 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s "$(find /usr/lib -name libjemalloc.so.2 -print -quit)" /usr/local/lib/libjemalloc.so.2 \
    && test -e /usr/local/lib/libjemalloc.so.2

# The embedded Chroma (a container started without CHROMA_URL) needs glibc 2.39; Debian 12 has 2.36.
# The newer one is fetched here, from the image's own Debian mirror, into the folder the bot looks in
# first, so such a container downloads nothing. The fetcher imports only Node's own modules, and this
# layer comes before the dependencies and the code: neither change brings a new download.
COPY --from=build /app/dist/cli/fetch-chroma-glibc.js ./dist/cli/
COPY --from=build /app/dist/services/newer-glibc.js ./dist/services/
RUN node dist/cli/fetch-chroma-glibc.js /app/.cache/glibc

COPY package.json package-lock.json ./
COPY vendor ./vendor
# onnxruntime-node ships binaries for every OS and CPU; only this platform's are ever loaded.
ARG TARGETARCH
RUN npm ci --omit=dev --no-audit --no-fund \
    && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
    && if [ "$TARGETARCH" = amd64 ]; then rm -rf node_modules/onnxruntime-node/bin/napi-v*/linux/arm64; fi \
    && if [ "$TARGETARCH" = arm64 ]; then rm -rf node_modules/onnxruntime-node/bin/napi-v*/linux/x64; fi \
    && npm cache clean --force \
    && rm -rf /root/.npm \
    && mkdir -p /app/data /app/models /app/logs /app/secrets \
    && chown node:node /app/data /app/models /app/logs

# The model layer comes before the code, so a code change does not download the model again: the
# downloader is standalone (it imports nothing from the bot's code).
ARG EMBEDDING_MODEL=Xenova/multilingual-e5-small
ARG PRELOAD_MODEL=true
ARG HF_ENDPOINT=
COPY --from=build /app/dist/cli/download-model.js ./dist/cli/
# Downloaded as the user that reads it, so the files need no chown (which would copy the layer).
USER node
RUN if [ "$PRELOAD_MODEL" = "true" ]; then \
      node dist/cli/download-model.js "$EMBEDDING_MODEL"; \
    else \
      echo "PRELOAD_MODEL=$PRELOAD_MODEL: the model is downloaded into MODELS_DIR at first start"; \
    fi
ENV EMBEDDING_MODEL=${EMBEDDING_MODEL} \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2

# Application files stay owned by root: the bot can read them, not change them. The compiled code
# comes last, so a code change rebuilds that one layer. The operator's commands run built scripts
# too: `docker compose exec bot node dist/cli/kb-index.js`.
COPY drizzle ./drizzle
COPY scenarios ./scenarios
COPY programs ./programs
COPY calibration ./calibration
COPY knowledge_base ./knowledge_base
COPY --from=build /app/dist ./dist

EXPOSE 8080
# node's own fetch: slim images have no curl. Every 5 s, so `docker compose ps` shows (healthy) a few
# seconds after the bot starts (Engine 20.10 has no --start-interval). HEALTH_PORT=0 turns it off.
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const port = process.env.HEALTH_PORT || '8080'; if (port === '0') process.exit(0); fetch('http://127.0.0.1:' + port + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
CMD ["node", "dist/main.js"]
