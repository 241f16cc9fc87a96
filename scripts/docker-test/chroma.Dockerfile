# Stand-in for chromadb/chroma:1.5.9 (Docker Hub is unreachable here): the Chroma server of the
# chromadb npm package (Chroma 1.3.4 inside) on Debian 13, whose glibc 2.41 it needs. Like the
# official image it has bash, serves on 0.0.0.0:8000 and keeps its data in /data.
FROM sales-trainer-bot-stand-in/debian:trixie
COPY node/bin/node /usr/local/bin/node
COPY chroma-modules/ /opt/chroma/node_modules/
ENV ANONYMIZED_TELEMETRY=FALSE
VOLUME /data
EXPOSE 8000
# Chroma's server shuts down cleanly on SIGINT.
STOPSIGNAL SIGINT
LABEL sales-trainer-bot.stand-in="chromadb/chroma:1.5.9: Chroma 1.3.4 (chromadb npm package) on Debian 13"
ENTRYPOINT ["node", "/opt/chroma/node_modules/chromadb/dist/cli.mjs", "run", "--path", "/data", "--host", "0.0.0.0", "--port", "8000"]
