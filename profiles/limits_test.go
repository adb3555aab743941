package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileTooLarge: a profile larger than MaxProfileBytes is one clear
// error naming the file, however it is read; an endless one (/dev/zero)
// too, without reading it all.
func TestProfileTooLarge(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte(minimal+"#"+strings.Repeat("x", MaxProfileBytes)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := filepath.Join(t.TempDir(), "fits.yaml")
	fits := minimal + "base:\n  max_model_len: 2048\n#"
	fits += strings.Repeat("x", MaxProfileBytes-len(fits)-1) + "\n"
	if err := os.WriteFile(at, []byte(fits), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		load func() (*Profile, error)
		want string // "" for no error
	}{
		// A file one line over the limit.
		{"file", func() (*Profile, error) { return Load(big) }, big + ": the profile is larger than 1 MiB, loadgen's limit: is it the right file?"},
		// An endless device.
		{"/dev/zero", func() (*Profile, error) { return Load("/dev/zero") }, "/dev/zero: the profile is larger than 1 MiB, loadgen's limit: is it the right file?"},
		// Parse holds in-memory profiles to the same limit.
		{"parse", func() (*Profile, error) { return Parse(make([]byte, MaxProfileBytes+1), "mem.yaml") }, "mem.yaml: the profile is larger than 1 MiB, loadgen's limit: is it the right file?"},
		// A profile of exactly the limit loads (its dataset is relative to
		// the package directory, so it is parsed from there).
		{"exact", func() (*Profile, error) {
			b, err := os.ReadFile(at)
			if err != nil {
				return nil, err
			}
			return Parse(b, "p.yaml")
		}, ""},
	}
	for _, tc := range tests {
		_, err := tc.load()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "":
		case err == nil || err.Error() != tc.want:
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
