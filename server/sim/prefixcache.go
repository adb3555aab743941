package sim

import (
	"container/list"
	"encoding/binary"
	"hash/maphash"
	"sync"
)

// prefixCache is the prefix-cache accounting of vLLM's KV block pool: full
// blocks of block_size tokens are identified by a hash chained over the
// prefix, a prompt hits the longest run of leading blocks already cached,
// and blocks are evicted least recently used when the pool is full. It
// only counts (vllm:prefix_cache_queries/hits); the latency model does not
// use hits (see LatencyModel). A nil cache (prefix caching off) counts
// nothing.
type prefixCache struct {
	mu        sync.Mutex
	blockSize int
	capacity  int
	lru       *list.List // of uint64, most recent at front
	index     map[uint64]*list.Element
}

func newPrefixCache(blockSize, capacity int) *prefixCache {
	return &prefixCache{blockSize: blockSize, capacity: max(1, capacity), lru: list.New(), index: map[uint64]*list.Element{}}
}

var blockSeed = maphash.MakeSeed()

// blockHashes returns the chained hashes of the full blocks of ids.
func blockHashes(ids []int, blockSize int) []uint64 {
	if blockSize <= 0 || len(ids) < blockSize {
		return nil
	}
	out := make([]uint64, 0, len(ids)/blockSize)
	var h maphash.Hash
	h.SetSeed(blockSeed)
	var buf [8]byte
	for i := 0; i+blockSize <= len(ids); i += blockSize {
		for _, id := range ids[i : i+blockSize] {
			binary.LittleEndian.PutUint32(buf[:4], uint32(id))
			h.Write(buf[:4])
		}
		out = append(out, h.Sum64())
	}
	return out
}

// match returns the number of prompt tokens found in the cache: the
// leading blocks already cached, never the whole prompt (vLLM recomputes
// at least the last token).
func (c *prefixCache) match(hashes []uint64, promptLen int) int {
	if c == nil {
		return 0
	}
	limit := (promptLen - 1) / c.blockSize
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, h := range hashes {
		if n >= limit {
			break
		}
		el, ok := c.index[h]
		if !ok {
			break
		}
		c.lru.MoveToFront(el)
		n++
	}
	return n * c.blockSize
}

// insert records a finished prompt's blocks.
func (c *prefixCache) insert(hashes []uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range hashes {
		if el, ok := c.index[h]; ok {
			c.lru.MoveToFront(el)
			continue
		}
		c.index[h] = c.lru.PushFront(h)
		for c.lru.Len() > c.capacity {
			old := c.lru.Remove(c.lru.Back()).(uint64)
			delete(c.index, old)
		}
	}
}

// reset empties the cache (POST /reset_prefix_cache).
func (c *prefixCache) reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Init()
	clear(c.index)
}
