// Package testkit is for tests only: the helpers that tests of several
// packages share. It imports nothing of loadgen's (only the standard
// library), so that every package's internal tests may import it without
// an import cycle.
//
// It owns the one -update flag of every test binary: Golden compares an
// output with its golden file or, under -update, rewrites the file, and
// Updating tells tests that rewrite fixtures in their own way. Every
// package with tests links testkit (a blank import where it uses nothing
// else), so that `go test ./... -update` passes a flag every test binary
// knows.
//
// Besides: Ports hands out loopback ports no other test gets, WaitFor polls
// a condition, SyncBuffer is a goroutine-safe output sink, CopyDir copies a
// fixture for a test to change, ReadJSON decodes a file, and Endless is an
// input that never ends.
package testkit
