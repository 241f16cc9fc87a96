# Stand-in for node:22-bookworm-slim (Docker Hub is unreachable here): Debian 12 minbase, Node and
# npm from the npm registry's packs, a user `node` with uid 1000 as in the official image.
FROM sales-trainer-bot-stand-in/debian:bookworm
ARG NODE_VERSION
COPY node/ /usr/local/
COPY npm/ /usr/local/lib/node_modules/npm/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && groupadd --gid 1000 node \
    && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
    && node --version && npm --version
# This host re-signs outbound HTTPS with a CA of its own: npm inside builds must trust it. Only in
# this stand-in, never in the project's Dockerfile.
COPY host-ca-certificates.crt /usr/local/share/stand-in/host-ca-certificates.crt
ENV NODE_VERSION=${NODE_VERSION} \
    NODE_EXTRA_CA_CERTS=/usr/local/share/stand-in/host-ca-certificates.crt
LABEL sales-trainer-bot.stand-in="node:22-bookworm-slim: Debian 12 minbase + Node ${NODE_VERSION} from npm"
CMD ["node"]
