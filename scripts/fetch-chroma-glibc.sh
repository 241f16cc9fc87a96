#!/usr/bin/env bash
# Fetches a newer glibc and libstdc++ (Debian 13 "trixie") into .cache/glibc-trixie, without
# installing them: the Chroma server bundled with the `chromadb` npm package needs glibc >= 2.39,
# Debian 12 ships 2.36. The server then runs under that folder's own loader (see
# src/services/chroma-server.ts, option `glibcDir`, and test/support/chroma.ts).
#
# Idempotent: does nothing when the folder is already complete. The machine's own apt setup is
# untouched: a temporary sources list and lists folder point apt at trixie for this download only,
# using the same Debian mirror the machine already uses.
#
# Usage: scripts/fetch-chroma-glibc.sh [target-dir]   (default: .cache/glibc-trixie)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-${CHROMA_GLIBC_DIR:-$root/.cache/glibc-trixie}}"
# Trixie has merged /usr: everything lands in usr/lib/x86_64-linux-gnu.
libdir="$target/usr/lib/x86_64-linux-gnu"
loader="$libdir/ld-linux-x86-64.so.2"
libstdcxx="$libdir/libstdc++.so.6"
libgcc="$libdir/libgcc_s.so.1"

if [ -x "$loader" ] && [ -e "$libstdcxx" ] && [ -e "$libgcc" ]; then
  echo "glibc for Chroma already in $target"
  exit 0
fi

# A system glibc of 2.39 or newer runs the server as it is: nothing to fetch.
system_glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }')"
if [ -n "$system_glibc" ] && [ "$(printf '%s\n2.39\n' "$system_glibc" | sort -V | head -1)" = "2.39" ]; then
  echo "system glibc $system_glibc runs Chroma as it is: nothing to fetch"
  exit 0
fi

if [ "$(uname -m)" != "x86_64" ]; then
  echo "fetch-chroma-glibc: only x86_64 is handled; set CHROMA_URL to an external Chroma instead" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null; then
  echo "fetch-chroma-glibc: needs Debian's apt-get; elsewhere set CHROMA_URL to an external Chroma" >&2
  exit 1
fi

# The Debian mirror this machine already uses, from apt's lists (fetched once if there are none).
debian_mirror() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null \
    | awk '$3 == "main" && $2 !~ /-/ && $1 !~ /security/ { print $1; exit }'
}
mirror="$(debian_mirror)"
if [ -z "$mirror" ] && [ "$(id -u)" = "0" ]; then
  apt-get -qq update
  mirror="$(debian_mirror)"
fi
if [ -z "$mirror" ]; then
  echo "fetch-chroma-glibc: no Debian mirror found in apt's lists; run 'apt-get update' first" >&2
  exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb [signed-by=$keyring] $mirror trixie main" > "$work/sources.list"
apt_options=(
  -o "Dir::Etc::sourcelist=$work/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "Dir::Cache::pkgcache="
  -o "Dir::Cache::srcpkgcache="
  -o "APT::Get::List-Cleanup=0"
  # The temporary folders belong to us; apt's _apt sandbox user cannot write there.
  -o "APT::Sandbox::User=root"
)

echo "fetching trixie's libc6, libstdc++6 and libgcc-s1 from $mirror"
apt-get -qq "${apt_options[@]}" update
(cd "$work/debs" && apt-get -qq "${apt_options[@]}" download libc6 libstdc++6 libgcc-s1)

rm -rf "$target.partial"
mkdir -p "$target.partial"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$target.partial"; done
rm -rf "$target"
mv "$target.partial" "$target"

if [ ! -x "$loader" ] || [ ! -e "$libstdcxx" ] || [ ! -e "$libgcc" ]; then
  echo "fetch-chroma-glibc: the loader or libraries are not where expected ($libdir)" >&2
  exit 1
fi
echo "glibc for Chroma ready in $target ($("$loader" --version | head -1))"
