#!/usr/bin/env bash
# Installs what the test suites need when it is missing, so `./test.sh` passes on a bare machine of
# the project's kind (Debian with the Rust toolchain): rustfmt and clippy, a C compiler for the
# bundled SQLite, python3 with venv (python-gitlab, schemathesis), curl (the docs' command lines),
# node and npm (gitbeaker), Go and go-gitlab (built in GOPATH mode from Debian's source package:
# the Go module proxy is not reachable), and Debian's chromium with a font for the browser tests of
# the web UI (tests/ui, driven by playwright-core). Does nothing when everything is there.
set -euo pipefail

cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

need=()
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v c++ >/dev/null 2>&1 || need+=(g++)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/xanzy/go-gitlab ] || need+=(golang-github-xanzy-go-gitlab-dev)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
((${#need[@]})) || exit 0

echo "installing the missing packages: ${need[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "these Debian packages are missing and we are not root (no sudo): ${need[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q "${need[@]}"
