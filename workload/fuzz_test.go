package workload

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// fuzzDataset reads data twice, whole and one byte at a time, and checks
// that both agree and that every query is well formed.
func fuzzDataset(t *testing.T, name string, data []byte, searchNum int, policy string, limits DatasetLimits) {
	opts := DatasetOptions{SearchNum: searchNum, ShortRows: policy, Limits: limits}
	read := func(r io.Reader) ([]Query, string) {
		ds, err := NewDataset(r, name, "", opts)
		if err != nil {
			return nil, err.Error()
		}
		defer ds.Close()
		qs, err := readAll(ds)
		if err != nil {
			return qs, err.Error()
		}
		return qs, ""
	}
	qs, msg := read(strings.NewReader(string(data)))
	qs2, msg2 := read(iotest.OneByteReader(strings.NewReader(string(data))))
	if msg != msg2 || !reflect.DeepEqual(qs, qs2) {
		t.Fatalf("whole and byte-wise reads differ: %q vs %q", msg, msg2)
	}
	if msg != "" && !strings.HasPrefix(msg, name) {
		t.Fatalf("error %q does not name the file", msg)
	}
	line := 0
	for i, q := range qs {
		if q.Index != i || q.Line <= line || q.Text == "" {
			t.Fatalf("query %d: index %d line %d (previous %d) text %q", i, q.Index, q.Line, line, q.Text)
		}
		line = q.Line
		if searchNum > 0 && len(q.Documents) != searchNum {
			t.Fatalf("query %d has %d documents, want %d", i, len(q.Documents), searchNum)
		}
		if !utf8.ValidString(q.Text) {
			t.Fatalf("query %d is not UTF-8", i)
		}
		for _, d := range q.Documents {
			if !utf8.ValidString(d) {
				t.Fatalf("query %d has a document that is not UTF-8", i)
			}
		}
		for _, r := range q.Relevant {
			if r < 0 || r >= len(q.Documents) {
				t.Fatalf("query %d: relevant %d out of range", i, r)
			}
		}
	}
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("query,answer_0,answer_1\nq,a,b\n"), 2, 0)
	f.Add([]byte("\xEF\xBB\xBFquery,answer_1,answer_0,x\r\n\"q,1\",\"b\nb\",a,z\r\nq2,,c,\n"), 2, 1)
	f.Add([]byte("query,answer_0\nq,\xff\n"), 0, 2)
	f.Add([]byte("query,answer_0,answer_0\n"), 1, 0)
	f.Add([]byte("query,answer_0\nq,\"aaaaaaaaaaaa\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"), 1, 3)
	f.Add([]byte("query,answer_0\n\"unterminated\n"), 1, 0)
	f.Fuzz(func(t *testing.T, data []byte, searchNum, policy int) {
		fuzzDataset(t, "f.csv", data, searchNum%4, []string{"", ShortRowsPad, ShortRowsSkip}[abs(policy)%3], fuzzLimits(policy))
	})
}

func FuzzJSONL(f *testing.F) {
	f.Add([]byte(`{"query":"q","documents":["a","b"],"relevant":[1]}`+"\n"), 2, 0)
	f.Add([]byte("\xEF\xBB\xBF{\"query\":\"q\",\"documents\":[\"a\"]}\r\n\n{\"query\":\"r\",\"documents\":[]}"), 1, 1)
	f.Add([]byte(`{"query":"q","documents":["a",1]}`), 0, 2)
	f.Add([]byte(`{"query":"q","documents":["a"],"relevant":[0,0]}`), 0, 0)
	f.Add([]byte("{\"query\":\"\xc3\"}"), 0, 0)
	f.Fuzz(func(t *testing.T, data []byte, searchNum, policy int) {
		fuzzDataset(t, "f.jsonl", data, searchNum%4, []string{"", ShortRowsPad, ShortRowsSkip}[abs(policy)%3], fuzzLimits(policy))
	})
}

// fuzzLimits picks the default limits or small ones that fuzzed rows reach,
// so that both reads must also agree on where a limit is passed.
func fuzzLimits(policy int) DatasetLimits {
	if abs(policy)/3%2 == 1 {
		return DatasetLimits{MaxField: 16, MaxRow: 48}
	}
	return DatasetLimits{}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
