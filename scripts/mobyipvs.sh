#!/usr/bin/env bash
# Builds tools/mobyipvs (a small client of github.com/moby/ipvs, the library kube-proxy and
# Docker use) as a static binary and prints its path. No Go module proxy is reachable, so the
# library and its dependencies come from Debian's packaged Go sources: the .debs are
# downloaded with apt-get (not installed), unpacked into a GOPATH in the cache, and the
# program is built in GOPATH mode with Debian's Go. Rebuilt only when the source changes.
#
#   scripts/mobyipvs.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/common.sh
. "$here/common.sh"

# github.com/moby/ipvs lives in Docker's package; the rest are its imports.
go_packages=(
	golang-github-docker-docker-dev
	golang-github-vishvananda-netlink-dev
	golang-github-vishvananda-netns-dev
	golang-github-sirupsen-logrus-dev
	golang-golang-x-sys-dev
)

command -v go >/dev/null || die "go missing: run scripts/setup.sh first"
dir=$CACHE/mobyipvs
gopath=$dir/gopath
src=$top/tools/mobyipvs/main.go
key=$(cat "$src" "$0" | sha256sum | cut -c1-12)
bin=$dir/mobyipvs-$key
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$dir/debs"
if [ ! -f "$gopath/.unpacked" ]; then
	log "fetching the Go sources of moby/ipvs from Debian: ${go_packages[*]}"
	(cd "$dir/debs" && apt-get download -q "${go_packages[@]}" >/dev/null 2>&1) ||
		die "apt-get download ${go_packages[*]} failed"
	rm -rf "$gopath" "$dir/unpacked"
	for deb in "$dir"/debs/*.deb; do
		dpkg-deb -x "$deb" "$dir/unpacked"
	done
	mkdir -p "$gopath"
	mv "$dir/unpacked/usr/share/gocode/src" "$gopath/src"
	rm -rf "$dir/unpacked"
	touch "$gopath/.unpacked"
fi

log "building mobyipvs with $(go version | awk '{ print $3 }') (static)"
mkdir -p "$gopath/src/mobyipvs"
cp "$src" "$gopath/src/mobyipvs/main.go"
rm -f "$dir"/mobyipvs-*
(cd "$gopath/src/mobyipvs" &&
	GO111MODULE=off GOPATH="$gopath" GOFLAGS= CGO_ENABLED=0 GOCACHE="$dir/gocache" \
		go build -trimpath -o "$bin" .) >&2 || die "building mobyipvs failed"
echo "$bin"
