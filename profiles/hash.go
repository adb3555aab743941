package profiles

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
)

// Hash returns a stable hash (hex SHA-256) of the resolved profile: every
// setting, workload and phase after defaults, in its JSON form, without
// Path, and with the paths that were resolved against the profile's
// directory (dataset, model, compiled artifacts) taken relative to it again —
// so moving or renaming the checkout does not change it. `loadgen sweep
// --resume` compares it to refuse resuming with a changed profile.
func (p *Profile) Hash() string {
	c := *p
	c.Path = ""
	c.Workload.Dataset = p.relative(c.Workload.Dataset)
	c.Model = p.relative(c.Model)
	if p.ServedModelName == p.Model { // the default: the model's path
		c.ServedModelName = c.Model
	}
	c.Server.CompiledArtifacts = p.relative(c.Server.CompiledArtifacts)
	b, err := json.Marshal(&c)
	if err != nil {
		// Only a hand-built profile with a NaN rate or a non-JSON value
		// in a free map gets here; hash what can be said about it.
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// relative returns path relative to the profile's directory when it lies
// below it, and path unchanged otherwise.
func (p *Profile) relative(path string) string {
	if p.dir == "" || !filepath.IsAbs(path) {
		return path
	}
	rel, err := filepath.Rel(p.dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}
