package schema

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePart(t *testing.T) {
	tests := []struct {
		in   string
		want Part
		err  string
	}{
		{"0/2", Part{0, 2}, ""},                     // first of two
		{" 3/4 ", Part{3, 4}, ""},                   // spaces around
		{"0/1", Part{0, 1}, ""},                     // the whole
		{"2/2", Part{}, "I must be 0 to 1"},         // counts from 0
		{"-1/2", Part{}, "I must be 0"},             // negative
		{"1/0", Part{}, "N must be 1"},              // no parts
		{"0/10001", Part{}, "N must be 1 to 10000"}, // absurd
		{"1", Part{}, "want I/N"},                   // no count
		{"a/b", Part{}, "want I/N"},                 // not numbers
	}
	for _, tt := range tests {
		got, err := ParsePart(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePart(%q) error %v, want one containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePart(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back, _ := ParsePart(got.String()); back != got {
			t.Errorf("%v does not survive String: %q", got, got.String())
		}
	}
}

func TestShardOf(t *testing.T) {
	names := []string{"d", "b", "e", "a", "c"}
	var all []string
	for i := range 2 {
		got := ShardOf(names, Part{i, 2})
		// Reordering the names changes neither the shard's set nor its
		// members' relative order in the input.
		rev := slices.Clone(names)
		slices.Reverse(rev)
		back := ShardOf(rev, Part{i, 2})
		slices.Reverse(back)
		if !slices.Equal(got, back) {
			t.Errorf("shard %d/2: %v, but %v for the names reversed", i, got, back)
		}
		all = append(all, got...)
	}
	if !slices.Equal(ShardOf(names, Part{0, 2}), []string{"e", "a", "c"}) || !slices.Equal(ShardOf(names, Part{1, 2}), []string{"d", "b"}) {
		t.Errorf("shards %v | %v, want [e a c] | [d b] (sorted a..e dealt in turn)", ShardOf(names, Part{0, 2}), ShardOf(names, Part{1, 2}))
	}
	slices.Sort(all)
	if !slices.Equal(all, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("the shards together hold %v", all)
	}
	if got := ShardOf(names, Part{7, 8}); len(got) != 0 {
		t.Errorf("shard 7/8 of five configs: %v, want none", got)
	}
}

// FuzzParsePart: any input parses to a valid part that survives String,
// or is refused; nothing panics.
func FuzzParsePart(f *testing.F) {
	for _, s := range []string{"0/2", "1/2", " 3/4 ", "2/2", "-1/2", "1/0", "a/b", "", "/", "0/10000", "9999999999999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePart(s)
		if err != nil {
			return
		}
		if p.Count < 1 || p.Count > MaxParts || p.Index < 0 || p.Index >= p.Count {
			t.Fatalf("ParsePart(%q) = %v: out of range", s, p)
		}
		if back, err := ParsePart(p.String()); err != nil || back != p {
			t.Fatalf("ParsePart(%q) = %v, which does not survive String: %v %v", s, p, back, err)
		}
	})
}
