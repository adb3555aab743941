package server

import (
	"fmt"
	"strings"
)

// CheckAPIKey reports whether key can be sent as a bearer token: an HTTP
// header value cannot hold a control character (a key read from a file
// often ends in a newline), and the whitespace around a value is dropped in
// transit, so the server would compare another key. Go's HTTP client
// refuses such a header on every request, so a key that fails this check
// would fail every readiness probe until the ready timeout. The error
// never contains the key.
func CheckAPIKey(key string) error {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("the API key contains a control character (%s at byte %d of %d), which an HTTP header cannot carry; remove it (a key read from a file often ends in a newline)",
				controlName(c), i+1, len(key))
		}
	}
	if strings.TrimSpace(key) != key {
		return fmt.Errorf("the API key starts or ends with a space, which HTTP drops in transit; remove it")
	}
	return nil
}

// controlName names a control character for a message.
func controlName(c byte) string {
	switch c {
	case '\n':
		return `a newline "\n"`
	case '\r':
		return `a carriage return "\r"`
	case '\t':
		return `a tab "\t"`
	case 0:
		return "a NUL byte"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
