package sim

import (
	"strings"
	"sync"
)

// promptInfo is what the simulator derives from a prompt: its tokens, its
// relevance P(yes) and the first token's distribution. It is immutable
// once built and shared between requests.
type promptInfo struct {
	text  string
	ids   []int
	rel   float64
	hash  uint64
	first []candidate
}

func newPromptInfo(text string, ids []int) *promptInfo {
	pi := &promptInfo{text: text, ids: ids, rel: Relevance(text), hash: hash64(text)}
	pi.first = firstDist(nil, pi.rel)
	return pi
}

// promptCacheMax bounds the cache of string prompts (past it the cache is
// emptied; a benchmark cycling through a dataset keeps hitting), and
// promptCacheMaxLen the length of a prompt worth caching.
const (
	promptCacheMax    = 4096
	promptCacheMaxLen = 32 << 10
)

// promptCache memoises promptInfo of string prompts, process-wide (the
// vocabulary is process-wide too).
var promptCache = struct {
	sync.RWMutex
	m map[string]*promptInfo
}{m: map[string]*promptInfo{}}

// promptFromText returns the prompt for text, which may alias a request
// body: it is copied before being kept.
func promptFromText(text string) promptIn {
	promptCache.RLock()
	pi, ok := promptCache.m[text]
	promptCache.RUnlock()
	if ok {
		return promptIn{ids: pi.ids, text: pi.text, info: pi}
	}
	text = strings.Clone(text)
	pi = newPromptInfo(text, Tokenize(nil, text))
	if len(text) > promptCacheMaxLen {
		return promptIn{ids: pi.ids, text: pi.text, info: pi}
	}
	promptCache.Lock()
	if len(promptCache.m) >= promptCacheMax {
		clear(promptCache.m)
	}
	promptCache.m[text] = pi
	promptCache.Unlock()
	return promptIn{ids: pi.ids, text: pi.text, info: pi}
}
