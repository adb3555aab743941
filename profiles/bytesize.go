package profiles

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"loadgen/loadgen/bounded"
)

// ByteSize is a size in bytes, written as a plain integer (bytes) or with a
// unit: "512KiB", "16 MiB", "2GB" (KiB, MiB, GiB are powers of 1024; KB,
// MB, GB of 1000). JSON holds the number of bytes.
type ByteSize int64

// String renders the size as bounded.Size does ("16 MiB").
func (b ByteSize) String() string { return bounded.Size(int64(b)) }

var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseByteSize reads a size as a profile writes it.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	mul, ok := byteUnits[unit]
	if err != nil || !ok {
		return 0, fmt.Errorf("want a size like 16MiB, 512KiB or a number of bytes, got %q", s)
	}
	v := f * mul
	if v < 1 || v > math.MaxInt64/2 {
		return 0, fmt.Errorf("must be at least 1 byte and at most 4 EiB, got %q", s)
	}
	return ByteSize(v), nil
}

func (b *ByteSize) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != intTag && n.ShortTag() != strTag) {
		dec.typeErr(n, path, "want a size like 16MiB, 512KiB or a number of bytes, got %s", describe(n))
		return
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		dec.typeErr(n, path, "%v", err)
		return
	}
	*b = v
}
