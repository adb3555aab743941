package profiles

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// shipped holds the profiles and sample data in this directory, built
// into the binary so that `loadgen sweep --simulate` runs without a
// checkout.
//
//go:embed *.yaml data/*
var shipped embed.FS

// DefaultShipped is the shipped profile run when no profile is named.
const DefaultShipped = "rerank.yaml"

// shippedPrefix marks paths inside the binary in Profile.Path and
// Workload.Dataset.
const shippedPrefix = "shipped:"

// Shipped returns the profiles and sample datasets built into the binary:
// *.yaml at the root and the datasets under data/.
func Shipped() fs.FS { return shipped }

// ShippedNames lists the shipped profiles ("rerank.yaml", …), sorted.
func ShippedNames() []string {
	names, _ := fs.Glob(shipped, "*.yaml") // the pattern is valid
	return names
}

// LoadShipped loads a shipped profile by name, with or without ".yaml"
// ("rerank" or "rerank.yaml"). Its Path is "shipped:<name>", and its
// dataset is read from the binary by Workload.Open, so it runs from any
// directory. `loadgen sweep` with no profile argument runs
// LoadShipped(DefaultShipped).
func LoadShipped(name string) (*Profile, error) {
	if !strings.HasSuffix(name, ".yaml") {
		name += ".yaml"
	}
	if name != path.Base(name) {
		return nil, fmt.Errorf("no shipped profile %q: shipped profiles are %s", name, strings.Join(ShippedNames(), ", "))
	}
	if _, err := fs.Stat(shipped, name); err != nil {
		return nil, fmt.Errorf("no shipped profile %q: shipped profiles are %s", name, strings.Join(ShippedNames(), ", "))
	}
	return loadFS(shipped, name, shippedPrefix+name)
}
