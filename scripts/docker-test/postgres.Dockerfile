# Stand-in for postgres:18-alpine (Docker Hub is unreachable here). It is PostgreSQL 15 from Debian 12
# inside, with the official image's interface: POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, the
# data in /var/lib/postgresql/18/docker, the first initialisation on a socket-only server.
FROM sales-trainer-bot-stand-in/debian:bookworm
# No cluster from the package (the entrypoint makes the one in PGDATA), no service start in the build.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main.conf \
    && printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d \
    && mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/18/docker
VOLUME /var/lib/postgresql
EXPOSE 5432
STOPSIGNAL SIGINT
LABEL sales-trainer-bot.stand-in="postgres:18-alpine: PostgreSQL 15 on Debian 12"
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
