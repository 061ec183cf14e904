// Package reliability holds tpago's reliability suite: tests that deploy
// real M1 clusters (docker platform) and break them on purpose — the
// primary killed under load, the old primary started again, the primary
// cut off from the network, backups restored — and measure what a user
// would see: time to a new writable primary, acknowledged writes lost,
// nodes accepting writes at once, and whether the data comes back.
//
// Run it with `go test ./test/reliability/ -v`; it needs a Docker engine
// (sh scripts/setup.sh) and takes several minutes.
package reliability
