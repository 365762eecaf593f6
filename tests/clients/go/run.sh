#!/usr/bin/env bash
# Runs the go-gitlab compatibility suite against the triggerd release binary.
# Needs Debian's golang-go (Go 1.19) and golang-github-xanzy-go-gitlab-dev (0.73.1): the suite
# builds in GOPATH mode against /usr/share/gocode, so no module download is needed.
# Binary: $TRIGGERD_BIN, else target/release/triggerd (built if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"

if [ -z "${TRIGGERD_BIN:-}" ] && [ ! -x "$repo/target/release/triggerd" ]; then
  (cd "$repo" && cargo build --release)
fi

if [ ! -d /usr/share/gocode/src/github.com/xanzy/go-gitlab ]; then
  echo "go-gitlab is missing: apt-get install -y golang-go golang-github-xanzy-go-gitlab-dev" >&2
  exit 1
fi

export GO111MODULE=off
export GOPATH="/usr/share/gocode${GOPATH:+:$GOPATH}"
export GOFLAGS=
export GOPROXY=off
# go needs a build cache; CI may run without HOME.
export GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/go-build}"
cd "$here"
go test -count=1 -v .
