package report

import (
	"fmt"
	"sort"
	"strings"
)

// How an offline result was joined to an online config.
const (
	MatchedByName     = "name"
	MatchedBySettings = "settings"
)

// comparableKeys are the settings both the offline script and a profile
// record, compared to disambiguate a match by settings and to point out
// differences between joined configs.
var comparableKeys = []string{
	"tensor_parallel_size", "max_num_seqs", "max_num_batched_tokens", "max_model_len", "block_size",
	"pa_num_blocks", KeyPrefixCaching, KeyBucketing, "kv_cache_quant", "sequence_parallel", "flash_decoding",
}

// OfflineMatch is the join of one offline result to an online config.
type OfflineMatch struct {
	Offline string `json:"offline"`
	// Online is "" when the offline result matched no online config.
	Online string `json:"online"`
	// By is MatchedByName, MatchedBySettings or "" (unmatched).
	By string `json:"matched_by"`
	// Note says which settings matched, or why there is no match.
	Note string `json:"note,omitempty"`
	// Differences lists comparable settings whose values differ.
	Differences []string `json:"differences,omitempty"`
	// OnlineStatus is the online config's status, with its failure class
	// when it failed: its numbers may still exist but need care.
	OnlineStatus string `json:"online_status,omitempty"`
}

// MatchOffline joins offline results to the sweep's configs:
//
//  1. by name: an offline result named exactly like an online config
//     (case-insensitively) joins it;
//  2. by settings: the others join the one remaining online config with
//     the same enable_prefix_caching and enable_bucketing; when several
//     remain, those that also agree on every other comparable setting both
//     sides record (max_num_seqs, pa_num_blocks, …); still several is
//     ambiguous and left unmatched.
//
// An online config joins at most one offline result. Matches come back in
// the offline results' order.
func MatchOffline(off []OfflineResult, s *Sweep) []OfflineMatch {
	free := map[string]bool{}
	for i := range s.Configs {
		free[s.Configs[i].Name] = true
	}
	out := make([]OfflineMatch, len(off))
	for i, o := range off {
		out[i].Offline = o.Name
		for j := range s.Configs {
			if c := s.Configs[j].Name; free[c] && strings.EqualFold(c, o.Name) {
				out[i].Online, out[i].By = c, MatchedByName
				free[c] = false
				break
			}
		}
	}
	for i, o := range off {
		if out[i].Online != "" {
			continue
		}
		out[i].Online, out[i].Note = matchBySettings(o, s, free)
		if out[i].Online != "" {
			out[i].By = MatchedBySettings
			free[out[i].Online] = false
		}
	}
	for i, o := range off {
		if c := s.Config(out[i].Online); c != nil {
			out[i].Differences = settingDifferences(o.Configuration, c.Settings)
			out[i].OnlineStatus = statusNote(c.Status.Status, c.FailureClass(), "")
		}
	}
	return out
}

// matchBySettings finds the one free online config with the offline
// result's settings; otherwise it returns "" and why.
func matchBySettings(o OfflineResult, s *Sweep, free map[string]bool) (string, string) {
	pc, bk := o.Configuration.Bool(KeyPrefixCaching), o.Configuration.Bool(KeyBucketing)
	if pc == nil || bk == nil {
		return "", fmt.Sprintf("no online config named %s, and its configuration lacks %s/%s", o.Name, KeyPrefixCaching, KeyBucketing)
	}
	key := fmt.Sprintf("%s=%t, %s=%t", KeyPrefixCaching, *pc, KeyBucketing, *bk)
	var cands []string
	for i := range s.Configs {
		c := &s.Configs[i]
		if !free[c.Name] {
			continue
		}
		cpc, cbk := c.Settings.Bool(KeyPrefixCaching), c.Settings.Bool(KeyBucketing)
		if cpc != nil && cbk != nil && *cpc == *pc && *cbk == *bk {
			cands = append(cands, c.Name)
		}
	}
	if len(cands) > 1 {
		var narrowed []string
		for _, name := range cands {
			if len(settingDifferences(o.Configuration, s.Config(name).Settings)) == 0 {
				narrowed = append(narrowed, name)
			}
		}
		if len(narrowed) == 1 {
			return narrowed[0], key + " and every other shared setting"
		}
		sort.Strings(cands)
		return "", fmt.Sprintf("ambiguous: %s all have %s", strings.Join(cands, ", "), key)
	}
	if len(cands) == 0 {
		return "", "no online config named " + o.Name + " or with " + key
	}
	return cands[0], key
}

// settingDifferences lists the comparable settings that both record with
// different values, as "key: offline A, online B".
func settingDifferences(off, on Settings) []string {
	var out []string
	for _, k := range comparableKeys {
		a, okA := off.String(k)
		b, okB := on.String(k)
		if okA && okB && a != b {
			out = append(out, fmt.Sprintf("%s: offline %s, online %s", k, a, b))
		}
	}
	return out
}
