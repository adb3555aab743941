// Package merge joins results measured apart into one: the result
// directories of a sweep's shards (`loadgen sweep --shard I/N`, on one host
// or on many) into one sweep directory, and the shares of a phase whose
// load was split across clients (`loadgen run --client I/N`, a phase's
// clients) into one phase result.
//
// A merged phase is exact: its histograms are the clients' histograms
// added bucket by bucket (read from their .hlog files), so its
// percentiles are those of the union of every request's values within HDR
// precision; counts, tokens and errors are summed; means, standard
// deviations and extremes are combined from the clients' exact moments;
// throughputs are over the union of the clients' windows; each client's
// own window and schedule lag are kept beside the merged figures.
//
// It reads and writes only the on-disk formats of package schema.
package merge
