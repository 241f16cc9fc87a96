# syntax=docker/dockerfile:1
#
# The sales-training bot. `docker compose up -d` builds it; docs/deploy.md is the operator's guide.
#
# Build arguments:
#   EMBEDDING_MODEL  the embedding model baked into the image (the same id as EMBEDDING_MODEL in .env)
#   PRELOAD_MODEL    true: download that model at build time, so a container never needs the model hub
#   HF_ENDPOINT      a mirror of huggingface.co, for build hosts that cannot reach the hub
#
# No secret is ever baked in: tokens, keys and passwords come from .env at run time.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: dev dependencies, TypeScript → dist/ ----------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node would otherwise fetch CUDA libraries: embeddings run on the CPU.
ENV ONNXRUNTIME_NODE_INSTALL_CUDA=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only, non-root ------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    DATA_DIR=/app/data \
    MODELS_DIR=/app/models \
    HEALTH_PORT=8080
WORKDIR /app

COPY package.json package-lock.json ./
# onnxruntime-node ships binaries for every OS; only Linux's are ever loaded here. onnxruntime-web
# (136 MB) is a browser runtime: transformers.js' Node build bundles what it needs and loads onnxruntime-node.
RUN npm ci --omit=dev --no-audit --no-fund \
    && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
        node_modules/onnxruntime-web/dist \
    && npm cache clean --force \
    && mkdir -p /app/data /app/models /app/logs /app/secrets \
    && chown node:node /app/data /app/models /app/logs

# jemalloc instead of glibc's malloc: after a busy hour glibc keeps the freed network buffers of
# hundreds of dialogues (RSS stayed 17–25% above its level before a 200-trainee load), jemalloc hands
# them back (docs/reliability.md, the load case). The link gives LD_PRELOAD one path on every CPU.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjemalloc2 \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s "$(find /usr/lib -name libjemalloc.so.2 -print -quit)" /usr/local/lib/libjemalloc.so.2 \
    && test -e /usr/local/lib/libjemalloc.so.2
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2

# The model layer comes before the code, so a code change does not download the model again.
ARG EMBEDDING_MODEL=Xenova/multilingual-e5-small
ARG PRELOAD_MODEL=true
ARG HF_ENDPOINT=
COPY scripts/download-model.ts ./scripts/download-model.ts
# Downloaded as the user that reads it, so the files need no chown (which would copy the layer).
USER node
RUN if [ "$PRELOAD_MODEL" = "true" ]; then \
      node --import tsx scripts/download-model.ts "$EMBEDDING_MODEL"; \
    else \
      echo "PRELOAD_MODEL=$PRELOAD_MODEL: the model is downloaded into MODELS_DIR at first start"; \
    fi
ENV EMBEDDING_MODEL=${EMBEDDING_MODEL}

# Application files stay owned by root: the bot can read them, not change them.
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
COPY scenarios ./scenarios
COPY knowledge_base ./knowledge_base
# Sources of the operator's scripts (`npm run kb:index`, `npm run sheets:resync`), run with tsx.
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts

EXPOSE 8080
# node's own fetch: slim images have no curl. HEALTH_PORT=0 turns the endpoint off, and the check with it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const port = process.env.HEALTH_PORT || '8080'; if (port === '0') process.exit(0); fetch('http://127.0.0.1:' + port + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
CMD ["node", "dist/main.js"]
