#!/bin/sh
# Sets up a fresh Debian 12 machine (as root) and runs every test,
# the slow end-to-end ones included, then staticcheck and a short run of
# every fuzz target.
#
# The fast tier alone, on any machine with Go (no root, Docker or sshd):
#   go test -short ./...
set -eu
cd "$(dirname "$0")/.."
. scripts/setup.sh
export PATH="/usr/local/go/bin:$(go env GOPATH)/bin:$PATH"

# staticcheck 2026.2.2 knows Go 1.26; pinned so that CI and people agree.
STATICCHECK_VERSION=v0.8.2
if ! staticcheck -version 2>/dev/null | grep -q "($(echo $STATICCHECK_VERSION | sed 's/^v//'))"; then
	go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi

go vet ./...
test -z "$(gofmt -l .)" || { echo "gofmt: these files need formatting:"; gofmt -l .; exit 1; }
staticcheck ./...
go test -count=1 -timeout 80m ./...

# Fuzz targets: go test above ran their seeds; each also fuzzes a little
# (FUZZTIME each, 5s unless set). Every `func Fuzz…` in the module is found.
FUZZTIME="${FUZZTIME:-5s}"
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	for target in $(go test -list '^Fuzz' "$dir" | grep '^Fuzz'); do
		echo "fuzz: $dir $target ($FUZZTIME)"
		go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$dir"
	done
done
