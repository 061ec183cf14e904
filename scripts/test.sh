#!/bin/sh
# Sets up a fresh Debian 12 machine (as root) and runs every test,
# the slow end-to-end ones included.
set -eu
cd "$(dirname "$0")/.."
. scripts/setup.sh
export PATH="/usr/local/go/bin:$PATH"
go vet ./...
test -z "$(gofmt -l .)" || { echo "gofmt: these files need formatting:"; gofmt -l .; exit 1; }
go test -count=1 -timeout 80m ./...
