package profiles

import (
	"errors"
	"fmt"
	"io"

	"loadgen/workload"
)

// Limits of the queries pre-flight keeps in memory: those of the prompt
// cache (workload.RerankSource), beyond which the sweep streams the
// dataset, reading it again on every cycle, anyway.
const (
	maxKeptQueries = workload.DefaultCacheQueries
	maxKeptBytes   = workload.DefaultCacheBytes
)

// Dataset is the workload's dataset as pre-flight read it: every row
// checked (a bad row is an error naming file:line), counted, and — when it
// fits the prompt cache — kept in memory, so that the sweep builds every
// configuration's prompts from it instead of reading the file again.
type Dataset struct {
	w        Workload
	count    int
	queries  []workload.Query // nil when too large to keep
	warnings []string         // the rows padded or skipped
}

// readDataset reads the workload's dataset once, whole.
func readDataset(w Workload) (*Dataset, error) {
	ds, err := w.openFile()
	if err != nil {
		return nil, err
	}
	d := &Dataset{w: w}
	keep, size := true, 0
	for {
		q, err := ds.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ds.Close()
			return nil, err
		}
		d.count++
		size += querySize(q)
		if keep && (d.count > maxKeptQueries || size > maxKeptBytes) {
			keep, d.queries = false, nil // too large: the sweep streams it
		}
		if keep {
			d.queries = append(d.queries, q)
		}
	}
	if wn, ok := ds.(workload.Warner); ok {
		d.warnings = wn.Warnings()
	}
	if err := ds.Close(); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", w.Dataset, err)
	}
	if d.count == 0 {
		return nil, fmt.Errorf("dataset %s holds no query", w.Dataset)
	}
	return d, nil
}

// querySize approximates the memory a kept query takes.
func querySize(q workload.Query) int {
	n := len(q.Text) + 16*(2+len(q.Documents)) + 8*len(q.Relevant)
	for _, doc := range q.Documents {
		n += len(doc)
	}
	return n
}

// Queries is the number of queries the dataset yields.
func (d *Dataset) Queries() int { return d.count }

// Kept reports whether the queries are held in memory (Open reads no
// file).
func (d *Dataset) Kept() bool { return d.queries != nil }

// Warnings are what reading the dataset had to say (rows padded or
// skipped).
func (d *Dataset) Warnings() []string { return d.warnings }

// Open returns the dataset from its first query: the queries kept in
// memory, or, for a dataset too large to keep, the file opened again (the
// sweep streams such a dataset and reads it again on every cycle). Each
// call returns a fresh workload.Dataset; the caller closes it.
func (d *Dataset) Open() (workload.Dataset, error) {
	if d.queries == nil {
		return d.w.openFile()
	}
	return &keptDataset{queries: d.queries, warnings: d.warnings}, nil
}

// keptDataset replays the queries pre-flight kept. It implements
// workload.Warner with what the read of the file found.
type keptDataset struct {
	queries  []workload.Query
	next     int
	warnings []string
}

func (k *keptDataset) Next() (workload.Query, error) {
	if k.next == len(k.queries) {
		return workload.Query{}, io.EOF
	}
	k.next++
	return k.queries[k.next-1], nil
}

func (k *keptDataset) Close() error { return nil }

func (k *keptDataset) Warnings() []string { return k.warnings }

// openFile opens the dataset file with the workload's reading options:
// from disk, or, for a shipped profile, from the binary.
func (w Workload) openFile() (workload.Dataset, error) {
	opts := workload.DatasetOptions{SearchNum: w.SearchNum, ShortRows: w.ShortRows}
	if w.fsys == nil {
		return workload.OpenDataset(w.Dataset, opts)
	}
	rc, err := w.Open()
	if err != nil {
		return nil, err
	}
	ds, err := workload.NewDataset(rc, w.Dataset, w.Format, opts)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return closingDataset{ds, rc}, nil
}

// closingDataset closes the reader beneath a dataset read from an embedded
// file.
type closingDataset struct {
	workload.Dataset
	c io.Closer
}

func (d closingDataset) Close() error {
	return errors.Join(d.Dataset.Close(), d.c.Close())
}

// Warnings passes on the warnings of the dataset beneath.
func (d closingDataset) Warnings() []string {
	if wn, ok := d.Dataset.(workload.Warner); ok {
		return wn.Warnings()
	}
	return nil
}
