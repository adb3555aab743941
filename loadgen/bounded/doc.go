// Package bounded reads inputs up to a limit and fails past it with an
// *Error that names the input, the limit and, where a user can raise it,
// the setting that does: a profile read from /dev/zero, a gzip bomb, a
// server that answers a probe with an endless body must end in one clear
// error, not in memory growing without bound.
//
// A limit is a Limit value (what is read, how many bytes, which setting
// raises it); its Reader, ReadCloser and ReadAll apply it. The defaults of
// every limit are named constants next to the code that reads the input
// (profiles, workload, server); README.md, "Limits", lists them.
//
// It imports nothing of loadgen's, so that every package that reads input
// (profiles, workload, server) uses this one mechanism.
package bounded
