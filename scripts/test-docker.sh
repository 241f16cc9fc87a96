#!/usr/bin/env bash
# npm run test:docker — the real Docker image and the real compose stack, run for real.
#
# Builds the image the way docs/deploy.md tells an operator (`docker compose build`), starts the three
# containers, plays a training session through the Telegram Bot API emulator, restarts and stops the
# bot, takes the stack down and up again, and reports build time, image size, time to healthy and
# memory per container. Only loopback stand-ins are ever contacted: Telegram and the language model
# run on this host (test/support/telegram-fake.ts, openai-fake.ts) on the docker0 bridge address.
#
# Where Docker cannot run here (not root, no engine and no apt-get, no cgroups, the engine does not
# start) it prints `test:docker: skipped — <reason>` and exits 0. As root with apt-get it installs what
# it lacks: Debian's docker.io and debootstrap, and compose v2 and buildx from Debian 13 packages.
# Docker Hub is never needed: the base images are stand-ins built locally under the tags the
# Dockerfile and docker-compose.yml use (scripts/docker-test/bases.sh).
#
# Environment: TEST_DOCKER_COLD=1 removes the project image and the build cache first (a cold build;
#   the stand-in bases stay); TEST_DOCKER_KEEP=1 leaves the temporary folder for a look afterwards.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
here="$root/scripts/docker-test"
cache="$root/.cache/docker-test"
run_started=$(date +%s)

say() { printf 'test:docker [%4ss] %s\n' "$(($(date +%s) - run_started))" "$*"; }
skip() {
  echo "test:docker: skipped — $*"
  exit 0
}
fail() {
  echo "test:docker: $*" >&2
  echo "test:docker: 0 passed, 1 failed"
  exit 1
}

# ---- 1. can Docker run here? ------------------------------------------------------------------

# The CLI must talk to the engine this script uses: Debian's own CLI (/usr/bin/docker) goes with
# Debian's engine; another `docker` earlier in PATH (a CLI without an engine) is bypassed.
docker_cli() {
  if [ -x /usr/bin/docker ] && [ -x /usr/sbin/dockerd ]; then echo /usr/bin/docker; else command -v docker || true; fi
}
engine_answers() {
  local cli
  cli="$(docker_cli)"
  [ -n "$cli" ] && timeout 20 "$cli" info >/dev/null 2>&1
}

unset DOCKER_CONTEXT
if ! engine_answers; then
  [ "$(id -u)" = 0 ] || skip "no Docker engine answers and this user is not root (cannot install or start one)"
  if ! command -v dockerd >/dev/null && [ ! -x /usr/sbin/dockerd ] && ! command -v apt-get >/dev/null; then
    skip "no Docker engine and no apt-get to install one"
  fi
  grep -qE '\scgroup2?\s' /proc/mounts || skip "no cgroups mounted (/sys/fs/cgroup): containers cannot run here"
fi

mkdir -p "$cache"
work="$(mktemp -d "${TMPDIR:-/tmp}/test-docker.XXXXXX")"
engine_pid=""
cleanup() {
  local status=$?
  # The stack, if a failure left it up: containers, network and volumes of the test project only.
  if [ -f "$work/compose-args" ] && [ -n "${DOCKER:-}" ]; then
    mapfile -t compose_args <"$work/compose-args"
    timeout 90 "$DOCKER" compose "${compose_args[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  # (Quietly: the summary line printed before stays the last line of the run.)
  if [ -n "$engine_pid" ] && kill -0 "$engine_pid" 2>/dev/null; then
    kill -TERM "$engine_pid"
    for _ in $(seq 1 60); do kill -0 "$engine_pid" 2>/dev/null || break; sleep 0.5; done
  fi
  if [ "${TEST_DOCKER_KEEP:-}" = 1 ]; then echo "test:docker: kept $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 2. install what is missing (root + apt) ----------------------------------------------------

# The Debian mirror this machine already uses, from apt's lists (as scripts/fetch-chroma-glibc.sh).
debian_mirror() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null \
    | awk '$3 == "main" && $2 !~ /-/ && $1 !~ /security/ { print $1; exit }'
}
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ] && ! apt-cache show "$@" >/dev/null 2>&1; then
    timeout 300 apt-get -qq update || skip "apt-get update failed: cannot install $*"
    apt_updated=1
  fi
  say "installing $* (apt-get)"
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "$@" >"$work/apt.log" 2>&1 \
    || { tail -20 "$work/apt.log"; skip "apt-get install $* failed"; }
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  [ -x /usr/sbin/dockerd ] || command -v dockerd >/dev/null || engine_answers || missing+=(docker.io)
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
fi
DOCKER="$(docker_cli)"
[ -n "$DOCKER" ] || skip "no docker CLI"
# Compose's plugins and child processes find the same CLI first.
mkdir -p "$work/bin"
ln -s "$DOCKER" "$work/bin/docker"
export PATH="$work/bin:$PATH"

# Compose v2 and buildx: Debian 12 has only compose v1; Debian 13's packages run on Debian 12.
plugins_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
compose_is_v2() { "$DOCKER" compose version --short 2>/dev/null | grep -qE '^v?2\.'; }
if ! compose_is_v2 || ! "$DOCKER" buildx version >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || skip "docker compose v2 is missing and cannot be installed here"
  mirror="$(debian_mirror)"
  if [ -z "$mirror" ]; then
    timeout 300 apt-get -qq update || true
    mirror="$(debian_mirror)"
  fi
  [ -n "$mirror" ] || skip "no Debian mirror in apt's lists to fetch compose v2 from"
  trixie="$cache/trixie-apt"
  rm -rf "$trixie/lists" "$trixie/x"
  mkdir -p "$trixie/lists/partial" "$trixie/cache/archives/partial" "$trixie/debs" "$trixie/x"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$trixie/sources.list"
  apt_options=(
    -o "Dir::Etc::sourcelist=$trixie/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$trixie/lists" -o "Dir::Cache=$trixie/cache"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Get::List-Cleanup=0"
    -o "APT::Sandbox::User=root"
  )
  if ! ls "$trixie"/debs/docker-compose_*.deb "$trixie"/debs/docker-buildx_*.deb >/dev/null 2>&1; then
    say "fetching compose v2 and buildx from Debian 13 ($mirror)"
    timeout 300 apt-get -qq "${apt_options[@]}" update || skip "cannot read Debian 13's package lists from $mirror"
    (cd "$trixie/debs" && timeout 300 apt-get -qq "${apt_options[@]}" download docker-compose docker-buildx) \
      || skip "cannot download docker-compose and docker-buildx from Debian 13"
  fi
  for deb in "$trixie"/debs/docker-compose_*.deb "$trixie"/debs/docker-buildx_*.deb; do dpkg -x "$deb" "$trixie/x"; done
  mkdir -p "$plugins_dir"
  cp "$trixie"/x/usr/libexec/docker/cli-plugins/* "$plugins_dir/"
  rm -rf "$trixie/lists" "$trixie/x"
  compose_is_v2 || skip "docker compose v2 does not run here"
fi

# ---- 3. the engine ------------------------------------------------------------------------------

if ! engine_answers; then
  # A pid file left by an engine that no longer runs would stop dockerd from starting.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  say "starting dockerd --storage-driver=overlay2"
  dockerd_bin="$(command -v dockerd || echo /usr/sbin/dockerd)"
  export DOCKER_HOST=unix:///var/run/docker.sock
  # setsid: the engine is not in this script's process group, so a Ctrl+C here reaches it only
  # through the cleanup's SIGTERM.
  setsid "$dockerd_bin" --storage-driver=overlay2 >"$work/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    engine_answers && break
    sleep 0.5
  done
  if ! engine_answers; then
    tail -20 "$work/dockerd.log" >&2
    [ -f /var/run/docker.pid ] && kill -TERM "$(cat /var/run/docker.pid)" 2>/dev/null || true
    skip "dockerd did not start (its last lines are above)"
  fi
  engine_pid="$(cat /var/run/docker.pid)"
  say "dockerd started (pid $engine_pid); it is stopped again at the end"
fi
engine_version="$("$DOCKER" version --format '{{.Server.Version}}')"
say "engine $engine_version, $("$DOCKER" compose version | head -1), $("$DOCKER" buildx version | head -1)"

# ---- 4. stand-in base images (Docker Hub is unreachable) ----------------------------------------

# The whole run is bounded: 20 minutes from a machine with nothing installed (a warm run takes 1–2).
budget=1200
remaining() { echo $((budget - ($(date +%s) - run_started))); }

export DOCKER
timeout --kill-after=30 "$(($(remaining) - 300))" bash "$here/bases.sh" "$cache" "$work" \
  || fail "the stand-in base images could not be built in time"

# ---- 5–8. build, run, check, report ------------------------------------------------------------

if [ "${TEST_DOCKER_COLD:-}" = 1 ]; then
  say "TEST_DOCKER_COLD=1: removing the project image and the build cache"
  "$DOCKER" image rm -f sales-trainer-bot:latest >/dev/null 2>&1 || true
  "$DOCKER" builder prune -af >/dev/null
fi

export TEST_DOCKER_WORK="$work" TEST_DOCKER_ENGINE="$engine_version" TEST_DOCKER_STARTED="$run_started"
# Every wait inside has its own timeout; whatever still hangs is cut here, in the time that is left.
status=0
left="$(remaining)"
timeout --signal=INT --kill-after=30 "$left" node --import tsx "$here/stack.ts" || status=$?
if [ "$status" = 124 ]; then
  echo "test:docker: stopped at the run's bound of $((budget / 60)) minutes" >&2
  echo "test:docker: 0 passed, 1 failed"
fi
exit "$status"
