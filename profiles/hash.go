package profiles

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Hash returns a stable hash (hex SHA-256) of the resolved profile: every
// setting, workload and phase after defaults, in its JSON form, without
// Path (moving or renaming the file does not change it). `loadgen sweep
// --resume` compares it to refuse resuming with a changed profile.
func (p *Profile) Hash() string {
	c := *p
	c.Path = ""
	b, err := json.Marshal(&c)
	if err != nil {
		// Only a hand-built profile with a NaN rate or a non-JSON value
		// in a free map gets here; hash what can be said about it.
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
