package schema

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Part is one of Count parts of a whole, Index counting from 0: a shard of
// a sweep's configurations (`sweep --shard I/N`) or a client of a phase's
// load (`run --client I/N`).
type Part struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// MaxParts bounds the count of a part: a sweep of more shards, or a phase
// of more clients, than this is surely a typo.
const MaxParts = 10000

// ParsePart reads "I/N" (0 ≤ I < N ≤ MaxParts).
func ParsePart(s string) (Part, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	bad := func(why string) (Part, error) {
		return Part{}, fmt.Errorf("%q: want I/N, the I-th of N parts counting from 0 (e.g. 0/2 and 1/2)%s", s, why)
	}
	if !ok {
		return bad("")
	}
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	switch {
	case err1 != nil || err2 != nil:
		return bad("")
	case cnt < 1 || cnt > MaxParts:
		return bad(fmt.Sprintf(": N must be 1 to %d", MaxParts))
	case idx < 0 || idx >= cnt:
		return bad(fmt.Sprintf(": I must be 0 to %d", cnt-1))
	}
	return Part{Index: idx, Count: cnt}, nil
}

// String renders the part as ParsePart reads it.
func (p Part) String() string { return fmt.Sprintf("%d/%d", p.Index, p.Count) }

// ShardRule names how ShardOf deals configurations to shards; a manifest
// records it with the shard.
const ShardRule = "sorted-round-robin"

// ShardOf returns the configurations of names that shard p runs, in the
// order of names. The names are sorted (byte order) and the k-th goes to
// shard k mod p.Count: every configuration goes to exactly one shard, the
// shards differ in size by at most one, and a configuration's shard does
// not depend on the order in which the profile or --only lists them.
func ShardOf(names []string, p Part) []string {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	mine := map[string]bool{}
	for k, n := range sorted {
		if k%p.Count == p.Index {
			mine[n] = true
		}
	}
	var out []string
	for _, n := range names {
		if mine[n] {
			out = append(out, n)
		}
	}
	return out
}

// Shard records that a sweep ran one shard of its configurations.
type Shard struct {
	Part
	// Rule is how configurations were dealt (ShardRule).
	Rule string `json:"rule"`
	// Of lists every configuration of the sweep being sharded, in profile
	// order; Configs this shard's.
	Of      []string `json:"of"`
	Configs []string `json:"configs"`
}
