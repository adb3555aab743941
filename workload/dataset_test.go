package workload

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll drains a dataset.
func readAll(ds Dataset) ([]Query, error) {
	var qs []Query
	for {
		q, err := ds.Next()
		if err == io.EOF {
			return qs, nil
		}
		if err != nil {
			return qs, err
		}
		qs = append(qs, q)
	}
}

// openString opens an in-memory dataset, reading it one byte at a time when
// slow is set (to exercise read boundaries).
func openString(name, data string, opts DatasetOptions, slow bool) ([]Query, Dataset, error) {
	var r io.Reader = strings.NewReader(data)
	if slow {
		r = iotest.OneByteReader(r)
	}
	ds, err := NewDataset(r, name, "", opts)
	if err != nil {
		return nil, nil, err
	}
	qs, err := readAll(ds)
	return qs, ds, err
}

func TestDatasetErrors(t *testing.T) {
	three := DatasetOptions{SearchNum: 3}
	tests := []struct {
		why  string
		name string
		data string
		opts DatasetOptions
		want string
	}{
		{"an empty CSV has no header", "d.csv", "", three,
			"d.csv: empty file: want a header with query, answer_0 … answer_2"},
		{"a BOM alone is still empty", "d.csv", "\xEF\xBB\xBF", three,
			"d.csv: empty file: want a header with query, answer_0 … answer_2"},
		{"a header without rows holds no query", "d.csv", "query,answer_0,answer_1,answer_2\n", three,
			"d.csv: dataset holds no queries"},
		{"the query column is required", "d.csv", "question,answer_0\nq,a\n", three,
			`d.csv:1: no "query" column in the header (want query, answer_0 … answer_{n-1}; got question,answer_0)`},
		{"at least answer_0 is required", "d.csv", "query,doc_0\nq,a\n", DatasetOptions{},
			"d.csv:1: no answer_0 column in the header (want query, answer_0 … answer_{n-1})"},
		{"too few answer columns for search_num", "d.csv", "query,answer_0,answer_1\nq,a,b\n", three,
			"d.csv:1: header has 2 answer columns (answer_0 … answer_1) but search_num is 3; lower search_num or set the short-row policy to pad"},
		{"a gap in answer columns ends them", "d.csv", "query,answer_0,answer_2,answer_3\nq,a,b,c\n", three,
			"d.csv:1: header has 1 answer columns (answer_0 … answer_0) but search_num is 3; lower search_num or set the short-row policy to pad"},
		{"duplicate columns are ambiguous", "d.csv", "query,answer_0,answer_0\n", three,
			`d.csv:1:16: duplicate column "answer_0"`},
		{"a short row names its line and the missing column", "d.csv", "query,answer_0,answer_1,answer_2\nq,a,b,c\nq2,a,b\n", three,
			"d.csv:3: row has 2 of 3 documents (answer_2 is missing); fix the row, lower search_num, or set the short-row policy to pad or skip"},
		{"an empty cell is a missing document", "d.csv", "query,answer_0,answer_1,answer_2\nq,a,,c\n", three,
			"d.csv:2: row has 2 of 3 documents (answer_1 is missing); fix the row, lower search_num, or set the short-row policy to pad or skip"},
		{"an empty query is an error", "d.csv", "query,answer_0\n,a\n", DatasetOptions{},
			"d.csv:2: empty query"},
		{"invalid UTF-8 names line and byte column", "d.csv", "query,answer_0\nq,ok\nq,ab\xffc\n", DatasetOptions{},
			"d.csv:3:5: invalid UTF-8"},
		{"invalid UTF-8 inside a multi-line quoted field", "d.csv", "query,answer_0\nq,\"line one\nline \xC3two\"\n", DatasetOptions{},
			"d.csv:3:6: invalid UTF-8"},
		{"a truncated rune at the end of the file", "d.csv", "query,answer_0\nq,a\xE2\x82", DatasetOptions{},
			"d.csv:2:4: invalid UTF-8"},
		{"CSV syntax errors keep csv's position", "d.csv", "query,answer_0\nq,\"a\"b\n", DatasetOptions{},
			`d.csv:2:5: extraneous or missing " in quoted-field`},
		{"an empty JSONL holds no query", "d.jsonl", "", three,
			"d.jsonl: dataset holds no queries"},
		{"blank JSONL lines only", "d.jsonl", "\n  \n", three,
			"d.jsonl: dataset holds no queries"},
		{"JSON syntax errors give line and column", "d.jsonl", `{"query":"q","documents":["a","b","c"]}` + "\n" + `{"query":"q" "documents":[]}` + "\n", three,
			"d.jsonl:2:14: invalid character '\"' after object key:value pair"},
		{"a document that is not a string", "d.jsonl", `{"query":"q","documents":["a",2,"c"]}`, three,
			"d.jsonl:1:31: documents: want a list of strings, got number"},
		{"a query that is not a string", "d.jsonl", `{"query":7,"documents":["a"]}`, DatasetOptions{},
			"d.jsonl:1:10: query: want a string, got number"},
		{"a line that is not an object", "d.jsonl", `["q","a"]`, DatasetOptions{},
			`d.jsonl:1:1: line: want an object {"query", "documents", "relevant"}, got array`},
		{"query is required", "d.jsonl", `{"documents":["a"]}`, DatasetOptions{},
			`d.jsonl:1: missing "query"`},
		{"documents are required", "d.jsonl", `{"query":"q"}`, DatasetOptions{},
			`d.jsonl:1: missing "documents"`},
		{"an empty JSONL query", "d.jsonl", `{"query":"","documents":["a"]}`, DatasetOptions{},
			"d.jsonl:1: empty query"},
		{"a short JSONL row", "d.jsonl", "\n" + `{"query":"q","documents":["a","b"]}`, three,
			"d.jsonl:2: row has 2 of 3 documents (documents[2] is missing); fix the row, lower search_num, or set the short-row policy to pad or skip"},
		{"relevant out of range", "d.jsonl", `{"query":"q","documents":["a","b"],"relevant":[2]}`, DatasetOptions{},
			"d.jsonl:1: relevant: index 2 out of range (the row has 2 documents)"},
		{"relevant listed twice", "d.jsonl", `{"query":"q","documents":["a","b"],"relevant":[1,1]}`, DatasetOptions{},
			"d.jsonl:1: relevant: index 1 listed twice"},
		{"invalid UTF-8 in JSONL, which encoding/json would hide", "d.jsonl", `{"query":"q","documents":["a` + "\xC0" + `"]}`, DatasetOptions{},
			"d.jsonl:1:29: invalid UTF-8"},
		{"skipping every row leaves nothing", "d.jsonl", `{"query":"q","documents":["a"]}`, DatasetOptions{SearchNum: 2, ShortRows: ShortRowsSkip},
			"d.jsonl: dataset holds no queries (all 1 rows were skipped as short)"},
		{"an unknown short-row policy", "d.jsonl", `{}`, DatasetOptions{ShortRows: "truncate"},
			`d.jsonl: short rows policy "truncate": want "error", "pad" or "skip"`},
		{"a negative search_num", "d.csv", "", DatasetOptions{SearchNum: -1},
			"d.csv: search_num -1: must not be negative"},
		{"an unknown extension", "d.txt", "", DatasetOptions{},
			"d.txt: unknown dataset format: want a .csv or .jsonl file"},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			_, _, err := openString(tt.name, tt.data, tt.opts, slow)
			if err == nil || err.Error() != tt.want {
				t.Errorf("%s (one byte at a time: %v):\n got %v\nwant %s", tt.why, slow, err, tt.want)
			}
		}
	}
}

func TestDatasetReads(t *testing.T) {
	tests := []struct {
		why  string
		name string
		data string
		opts DatasetOptions
		want []Query
		warn []string
	}{
		{"BOM, CRLF, extra and reordered columns, spaces in the header", "d.csv",
			"\xEF\xBB\xBFid, answer_1 ,query,answer_0,note\r\n7,b,q1,a,x\r\n8,\"multi\nline\",q2,c,y\r\n", DatasetOptions{},
			[]Query{{Index: 0, Line: 2, Text: "q1", Documents: []string{"a", "b"}},
				{Index: 1, Line: 3, Text: "q2", Documents: []string{"c", "multi\nline"}}}, nil},
		{"search_num cuts longer rows", "d.csv", "query,answer_0,answer_1,answer_2\nq,a,b,c\n", DatasetOptions{SearchNum: 2},
			[]Query{{Line: 2, Text: "q", Documents: []string{"a", "b"}}}, nil},
		{"pad fills missing documents and a short header", "d.csv", "query,answer_0,answer_1\nq,a\nq2,a,b\n",
			DatasetOptions{SearchNum: 3, ShortRows: ShortRowsPad},
			[]Query{{Line: 2, Text: "q", Documents: []string{"a", "", ""}}, {Index: 1, Line: 3, Text: "q2", Documents: []string{"a", "b", ""}}},
			[]string{"d.csv: padded 2 row(s) with fewer than 3 documents with empty documents (first at line 2)"}},
		{"skip drops short rows and indexes the rest densely", "d.csv", "query,answer_0,answer_1\nq,a\nq2,a,b\nq3,,b\n",
			DatasetOptions{SearchNum: 2, ShortRows: ShortRowsSkip},
			[]Query{{Line: 3, Text: "q2", Documents: []string{"a", "b"}}},
			[]string{"d.csv: skipped 2 row(s) with fewer than 2 documents (first at line 2)"}},
		{"JSONL with labels, blank lines, CRLF and unknown keys", "d.jsonl",
			"\xEF\xBB\xBF{\"query\":\"q\",\"documents\":[\"a\",\"b\",\"\"],\"relevant\":[2,0],\"id\":5}\r\n\n{\"query\":\"r\",\"documents\":[\"c\"]}",
			DatasetOptions{},
			[]Query{{Line: 1, Text: "q", Documents: []string{"a", "b", ""}, Relevant: []int{2, 0}},
				{Index: 1, Line: 3, Text: "r", Documents: []string{"c"}}}, nil},
		{"relevant beyond search_num is dropped; empty labels stay labelled", "d.jsonl",
			`{"query":"q","documents":["a","b","c"],"relevant":[2]}`, DatasetOptions{SearchNum: 2},
			[]Query{{Line: 1, Text: "q", Documents: []string{"a", "b"}, Relevant: []int{}}}, nil},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			got, ds, err := openString(tt.name, tt.data, tt.opts, slow)
			if err != nil {
				t.Errorf("%s: %v", tt.why, err)
				continue
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s:\n got %+v\nwant %+v", tt.why, got, tt.want)
			}
			if w := ds.(Warner).Warnings(); !reflect.DeepEqual(w, tt.warn) {
				t.Errorf("%s: warnings %q, want %q", tt.why, w, tt.warn)
			}
		}
	}
}

// TestOpenDatasetGzip reads a gzipped CSV from disk.
func TestOpenDatasetGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("query,answer_0\nq,a\n"))
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := OpenDataset(path, "", DatasetOptions{SearchNum: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	qs, err := readAll(ds)
	if err != nil || len(qs) != 1 || qs[0].Documents[0] != "a" {
		t.Fatalf("got %+v, %v", qs, err)
	}
	if _, err := ds.Next(); err != io.EOF {
		t.Errorf("after the end: %v, want io.EOF", err)
	}
}

func TestOpenDatasetMissing(t *testing.T) {
	_, err := OpenDataset(filepath.Join(t.TempDir(), "none.jsonl"), "", DatasetOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

// TestDatasetErrorUnwraps checks errors.As finds the position.
func TestDatasetErrorUnwraps(t *testing.T) {
	_, _, err := openString("d.csv", "query,answer_0\nq,\xff\n", DatasetOptions{}, false)
	var de *DatasetError
	if !errors.As(err, &de) || de.Line != 2 || de.Col != 3 || !errors.Is(err, errInvalidUTF8) {
		t.Errorf("got %#v", err)
	}
}
