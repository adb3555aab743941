//go:build !linux

package server

import "errors"

// FreeBytes is not implemented off Linux (Inferentia hosts run Linux).
func FreeBytes(path string) (uint64, string, error) {
	return 0, path, errors.New("free disk space is only measured on Linux")
}
