package workload

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// ScoreRecord is one line of scores.jsonl: the score of one document of one
// query, and its rank. Compare online rankings with offline ones, or between
// configurations, by (query, doc).
type ScoreRecord struct {
	Query int     `json:"query"`
	Cycle int     `json:"cycle"`
	Doc   int     `json:"doc"`
	Score float64 `json:"score"`
	// Rank is the 1-based position in the query's ranking, 0 when the
	// document is not in the top_n.
	Rank int `json:"rank"`
	// Simulated is true when the score came from loadgen's simulator.
	Simulated bool `json:"simulated,omitempty"`
}

// ScoreRecords returns the records of one query: one per score, in document
// order, ranked with Rank(scores, topN).
func ScoreRecords(query, cycle int, scores []float64, topN int) []ScoreRecord {
	recs := make([]ScoreRecord, len(scores))
	for i, s := range scores {
		recs[i] = ScoreRecord{Query: query, Cycle: cycle, Doc: i, Score: s}
	}
	for pos, d := range Rank(scores, topN) {
		recs[d].Rank = pos + 1
	}
	return recs
}

// ScoresWriter writes ScoreRecords as JSON lines. It is not safe for
// concurrent use; give it to the goroutine that owns the results.
type ScoresWriter struct {
	// Simulated marks every line "simulated":true (scores measured
	// against loadgen's simulator are labelled as such in every output).
	Simulated bool

	w   io.Writer
	buf []byte
}

// NewScoresWriter returns a ScoresWriter writing to w. Each Write call makes
// one w.Write, so w need not be buffered.
func NewScoresWriter(w io.Writer) *ScoresWriter { return &ScoresWriter{w: w} }

// Write writes recs, one JSON object per line:
// {"query":0,"cycle":0,"doc":3,"score":0.97,"rank":1}. A non-finite score
// is an error (P(yes) is always in [0, 1]).
func (s *ScoresWriter) Write(recs []ScoreRecord) error {
	b := s.buf[:0]
	for _, r := range recs {
		if math.IsNaN(r.Score) || math.IsInf(r.Score, 0) {
			return fmt.Errorf("score of query %d document %d is %v", r.Query, r.Doc, r.Score)
		}
		b = append(b, `{"query":`...)
		b = strconv.AppendInt(b, int64(r.Query), 10)
		b = append(b, `,"cycle":`...)
		b = strconv.AppendInt(b, int64(r.Cycle), 10)
		b = append(b, `,"doc":`...)
		b = strconv.AppendInt(b, int64(r.Doc), 10)
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, r.Score, 'g', -1, 64)
		b = append(b, `,"rank":`...)
		b = strconv.AppendInt(b, int64(r.Rank), 10)
		if s.Simulated || r.Simulated {
			b = append(b, `,"simulated":true`...)
		}
		b = append(b, "}\n"...)
	}
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("writing scores: %w", err)
	}
	return nil
}

// ReadScores reads scores.jsonl, calling fn for each record in file order;
// it stops at fn's first error. Errors name the line.
func ReadScores(r io.Reader, fn func(ScoreRecord) error) error {
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec ScoreRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("scores line %d: %w", line, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading scores: %w", err)
	}
	return nil
}

// NoLogprobsHint tells the user how to get logprobs out of vllm-neuron.
const NoLogprobsHint = "vllm-neuron returns logprobs only with CPU sampling: set on_device_sampling_config: null in the profile's neuron_config"

// ErrNoLogprobs is the error for a completion choice without logprobs (no
// top_logprobs for its first token). The load engine returns it, wrapped
// with the request's details, and counts it as "missing logprobs".
var ErrNoLogprobs = errors.New("response has no logprobs; " + NoLogprobsHint)
