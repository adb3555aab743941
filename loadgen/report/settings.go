package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Settings keys the report looks at. They are the profile's (and the
// offline benchmark's) names.
const (
	KeyPrefixCaching = "enable_prefix_caching"
	KeyBucketing     = "enable_bucketing"
)

// Settings is a configuration's resolved settings, decoded from the JSON
// object in ConfigStatus.Settings (or an offline result's configuration).
type Settings map[string]any

// ParseSettings decodes a JSON object of settings. Numbers are kept exact
// (json.Number). Empty input gives empty Settings.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return Settings{}, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var s Settings
	if err := d.Decode(&s); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return s, nil
}

// Lookup finds key at the top level, or else in nested objects (searched in
// key order), so that a settings object grouped into sections still works.
func (s Settings) Lookup(key string) (any, bool) {
	if v, ok := s[key]; ok {
		return v, true
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if m, ok := s[k].(map[string]any); ok {
			if v, ok := Settings(m).Lookup(key); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// Bool returns the boolean setting key, or nil when it is absent or not a
// boolean.
func (s Settings) Bool(key string) *bool {
	v, ok := s.Lookup(key)
	if !ok {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		return nil
	}
	return &b
}

// String renders the setting key for display and comparison: booleans as
// true/false, numbers exactly as written, strings as is, anything else as
// compact JSON. ok is false when the key is absent.
func (s Settings) String(key string) (string, bool) {
	v, ok := s.Lookup(key)
	if !ok {
		return "", false
	}
	switch v := v.(type) {
	case nil:
		return "null", true
	case bool:
		return strconv.FormatBool(v), true
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64), true
		}
		return v.String(), true
	case string:
		return v, true
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v), true
		}
		return string(b), true
	}
}
