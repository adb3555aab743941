package server

import (
	"strings"
	"testing"
)

func TestCheckAPIKey(t *testing.T) {
	tests := []struct {
		key  string
		want string // "" accepts
	}{
		// An ordinary key, and one with inner spaces and non-ASCII.
		{"sk-abc123", ""},
		{"a key with spaces ü", ""},
		// The trailing newline of `cat keyfile`.
		{"s3cret\n", `a newline "\n" at byte 7 of 7`},
		// Other control characters, named.
		{"s3\r\ncret", `a carriage return "\r" at byte 3 of 8`},
		{"s3\tcret", `a tab "\t" at byte 3 of 7`},
		{"s3\x00cret", "a NUL byte at byte 3 of 7"},
		{"s3\x7fcret", "byte 0x7f at byte 3 of 7"},
		// Spaces around the key are dropped in transit.
		{" s3cret", "starts or ends with a space"},
	}
	for _, tc := range tests {
		err := CheckAPIKey(tc.key)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.key, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want %q", tc.key, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "cret"):
			t.Errorf("%q: the error shows the key: %v", tc.key, err)
		}
	}
}
