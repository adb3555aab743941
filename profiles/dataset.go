package profiles

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
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
	sha256   string           // of the file's bytes
	size     int64            // the file's bytes
}

// readDataset reads the workload's dataset once, whole, and hashes the
// file's bytes in the same pass.
func readDataset(w Workload) (*Dataset, error) {
	rc, err := w.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h := &hashCount{h: sha256.New()}
	file := io.TeeReader(rc, h)
	ds, err := w.newDataset(file)
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
	// The readers stop at the end of their text: hash what follows it
	// too (bytes after a gzip stream), so that the hash is the file's.
	if _, err := io.Copy(io.Discard, file); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", w.Dataset, err)
	}
	d.sha256, d.size = hex.EncodeToString(h.h.Sum(nil)), h.n
	return d, nil
}

// hashCount hashes and counts what is written to it.
type hashCount struct {
	h hash.Hash
	n int64
}

func (c *hashCount) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// SHA256 is the hex SHA-256 of the dataset file's bytes, as pre-flight
// read them: a sweep records it, and --resume refuses a changed dataset.
func (d *Dataset) SHA256() string { return d.sha256 }

// Size is the dataset file's size in bytes, as pre-flight read it.
func (d *Dataset) Size() int64 { return d.size }

// Path is the dataset file, as the profile resolved it.
func (d *Dataset) Path() string { return d.w.Dataset }

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
	rc, err := w.Open()
	if err != nil {
		return nil, err
	}
	ds, err := w.newDataset(rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return closingDataset{ds, rc}, nil
}

// newDataset reads the dataset from r with the workload's format, reading
// options and limits.
func (w Workload) newDataset(r io.Reader) (workload.Dataset, error) {
	return workload.NewDataset(r, w.Dataset, w.Format, workload.DatasetOptions{
		SearchNum: w.SearchNum,
		ShortRows: w.ShortRows,
		Limits: workload.DatasetLimits{
			MaxField:            int64(w.MaxFieldSize),
			MaxRow:              int64(w.MaxRowSize),
			MaxDecompressed:     int64(w.MaxDecompressedSize),
			FieldSetting:        "workload.max_field_size",
			RowSetting:          "workload.max_row_size",
			DecompressedSetting: "workload.max_decompressed_size",
		},
	})
}

// closingDataset closes the reader beneath a dataset.
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
