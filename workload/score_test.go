package workload

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestScore(t *testing.T) {
	tests := []struct {
		why            string
		s              Scorer
		top            map[string]float64
		want           float64
		missYes, missN bool
	}{
		// 1/(1+e^(−2.4−(−0.1))) = 1/(1+e^−2.3) = 1/1.1002588 = 0.908877…
		{"string keys", NewScorer(Qwen3YesID, Qwen3NoID), map[string]float64{"yes": -0.1, "no": -2.4, "Yes": -4}, 0.9088770389851438, false, false},
		// equal logprobs: 1/(1+e^0) = 0.5
		{"token_id keys", NewScorer(Qwen3YesID, Qwen3NoID), map[string]float64{"token_id:9693": -0.5, "token_id:2152": -0.5}, 0.5, false, false},
		// "no" missing counts −10: 1/(1+e^(−10+0.2)) = 1/(1+e^−9.8) = 0.99994455…
		{"missing no", NewScorer(Qwen3YesID, Qwen3NoID), map[string]float64{"yes": -0.2}, 0.9999445514752772, false, true},
		// "yes" missing counts −10: 1/(1+e^(−0.05+10)) = 1/(1+e^9.95) = 4.7725e−5
		{"missing yes", NewScorer(Qwen3YesID, Qwen3NoID), map[string]float64{"no": -0.05, "Yes": -3}, 4.7725356118475645e-05, true, false},
		// both −10: 0.5
		{"both missing", NewScorer(Qwen3YesID, Qwen3NoID), map[string]float64{"maybe": -0.1}, 0.5, true, true},
		// the token id key wins over the string key: −1 vs −1
		{"token_id preferred", NewScorer(Qwen3YesID, Qwen3NoID), map[string]float64{"token_id:9693": -1, "yes": -5, "no": -1}, 0.5, false, false},
		// ids from the profile: 1/(1+e^(−0.3+1.2)) = 1/(1+e^0.9) = 0.289050…
		{"other ids", NewScorer(11, 12), map[string]float64{"token_id:11": -1.2, "token_id:12": -0.3, "token_id:9693": 0}, 0.28905049737499605, false, false},
		// nothing added: both −10, 0.5
		{"empty", NewScorer(Qwen3YesID, Qwen3NoID), nil, 0.5, true, true},
	}
	for _, tt := range tests {
		var top TopLogprobs
		for k, v := range tt.top {
			tt.s.Add(&top, k, v)
		}
		p, my, mn := tt.s.Score(&top)
		if math.Abs(p-tt.want) > 1e-12 || my != tt.missYes || mn != tt.missN {
			t.Errorf("%s: got %v (missing yes %v, no %v), want %v (%v, %v)", tt.why, p, my, mn, tt.want, tt.missYes, tt.missN)
		}
	}
}

// TestScorerAddLastWins checks that a key added twice keeps its last
// logprob, and that the token id form wins whatever the order.
func TestScorerAddLastWins(t *testing.T) {
	s := NewScorer(Qwen3YesID, Qwen3NoID)
	var top TopLogprobs
	s.Add(&top, "no", -3)
	s.Add(&top, "token_id:9693", -1)
	s.Add(&top, "yes", -9)
	s.Add(&top, "no", -1) // replaces −3
	// 1/(1+e^(−1−(−1))) = 0.5: yes from token_id:9693, no from the last "no"
	if p, my, mn := s.Score(&top); p != 0.5 || my || mn {
		t.Errorf("got %v %v %v, want 0.5 false false", p, my, mn)
	}
}

func TestRank(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		why    string
		scores []float64
		topN   int
		want   []int
	}{
		{"descending, cut to top_n", []float64{0.1, 0.9, 0.5, 0.7}, 2, []int{1, 3}},
		{"ties keep document order", []float64{0.5, 0.9, 0.5, 0.5}, 0, []int{1, 0, 2, 3}},
		{"NaN ranks last", []float64{nan, 0.2, nan, 0.1}, 0, []int{1, 3, 0, 2}},
		{"top_n beyond the documents keeps all", []float64{0.2, 0.3}, 6, []int{1, 0}},
		{"no documents", nil, 3, []int{}},
	}
	for _, tt := range tests {
		if got := Rank(tt.scores, tt.topN); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.why, got, tt.want)
		}
	}
}

func TestQuality(t *testing.T) {
	nan := math.NaN()
	// Gains 1/log2(r+1): r=1 → 1, r=2 → 0.6309298, r=3 → 0.5, r=5 → 0.3868528.
	// five ranks documents 3, 1, 4, 0, 2.
	five := []float64{0.6, 0.8, 0.5, 0.9, 0.7}
	tests := []struct {
		why      string
		scores   []float64
		relevant []int
		topN     int
		ndcg     float64
		mrr      float64
		ok       bool
	}{
		// Ranking 0, 1 | 2: doc 2 is third, outside the top 2. DCG 0, IDCG 1 → 0; MRR@2 0.
		{"relevant beyond top_n", []float64{0.9, 0.8, 0.1}, []int{2}, 2, 0, 0, true},
		// Doc 1 at rank 2: DCG 0.6309298; IDCG (2 hits) 1 + 0.6309298 → 0.3868528; MRR 1/2.
		{"hit at rank 2 of 3", five, []int{1, 2}, 3, 0.38685280723454163, 0.5, true},
		// Doc 2 adds rank 5: (0.6309298 + 0.3868528) / 1.6309298 = 0.6240505; MRR 1/2.
		{"hits at ranks 2 and 5", five, []int{1, 2}, 5, 0.6240505200038379, 0.5, true},
		// top_n 0 keeps all five: as above.
		{"top_n 0 is all", five, []int{1, 2}, 0, 0.6240505200038379, 0.5, true},
		// top_n beyond the documents keeps all five: as above.
		{"top_n above n is all", five, []int{1, 2}, 9, 0.6240505200038379, 0.5, true},
		// Labels are a set: the repeated 1 neither adds a hit nor to IDCG: as above.
		{"duplicate labels", five, []int{1, 2, 1}, 5, 0.6240505200038379, 0.5, true},
		// Out-of-range labels do not count: set {1}; DCG 0.6309298, IDCG 1; MRR 1/2.
		{"out-of-range labels", five, []int{7, 1, -1}, 3, 0.6309297535714575, 0.5, true},
		// Ranking 1, 2, 0: both relevant on top; DCG = IDCG → 1; MRR 1.
		{"perfect", []float64{0.1, 0.9, 0.5}, []int{2, 1}, 3, 1, 1, true},
		// Three relevant, top 2 both relevant: IDCG over min(3, 2) hits = DCG → 1; MRR 1.
		{"ideal capped at top_n", []float64{0.9, 0.8, 0.1, 0.2}, []int{0, 1, 2}, 2, 1, 1, true},
		// Ties keep document order: ranking 0, 1, 2; doc 2 at rank 3: 0.5 / 1; MRR 1/3.
		{"ties by index", []float64{0.5, 0.5, 0.5}, []int{2}, 3, 0.5, 1.0 / 3, true},
		// Unscored (NaN) ranks last: ranking 1, 2, 0; doc 0 at rank 3: 0.5; MRR 1/3.
		{"NaN last", []float64{nan, 0.2, 0.1}, []int{0}, 0, 0.5, 1.0 / 3, true},
		// No labels, an empty label set, labels outside the documents, no
		// documents: no relevant document, not averaged.
		{"unlabelled", []float64{0.5, 0.4}, nil, 2, 0, 0, false},
		{"labelled, none relevant", []float64{0.5, 0.4}, []int{}, 2, 0, 0, false},
		{"labels outside the documents", []float64{0.5, 0.4}, []int{2, 5}, 2, 0, 0, false},
		{"no documents", nil, []int{0}, 2, 0, 0, false},
	}
	for _, tt := range tests {
		ndcg, mrr, ok := Quality(tt.scores, tt.relevant, tt.topN)
		if math.Abs(ndcg-tt.ndcg) > 1e-12 || math.Abs(mrr-tt.mrr) > 1e-12 || ok != tt.ok {
			t.Errorf("%s: NDCG %v MRR %v ok %v, want %v %v %v", tt.why, ndcg, mrr, ok, tt.ndcg, tt.mrr, tt.ok)
		}
	}
}

func TestScoresWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewScoresWriter(&buf)
	recs := ScoreRecords(4, 1, []float64{0.25, 0.9, 0.5}, 2)
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	want := `{"query":4,"cycle":1,"doc":0,"score":0.25,"rank":0}
{"query":4,"cycle":1,"doc":1,"score":0.9,"rank":1}
{"query":4,"cycle":1,"doc":2,"score":0.5,"rank":2}
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	var back []ScoreRecord
	if err := ReadScores(strings.NewReader(buf.String()), func(r ScoreRecord) error { back = append(back, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, recs) {
		t.Errorf("read back %+v, want %+v", back, recs)
	}
	if err := w.Write([]ScoreRecord{{Query: 1, Doc: 2, Score: math.NaN()}}); err == nil || err.Error() != "score of query 1 document 2 is NaN" {
		t.Errorf("NaN: %v", err)
	}
	if err := ReadScores(strings.NewReader("{\"query\":1}\n{oops\n"), func(ScoreRecord) error { return nil }); err == nil || !strings.HasPrefix(err.Error(), "scores line 2:") {
		t.Errorf("bad line: %v", err)
	}
	stop := errors.New("stop")
	if err := ReadScores(strings.NewReader(want), func(ScoreRecord) error { return stop }); err != stop {
		t.Errorf("callback error: %v", err)
	}

	// A simulated run labels every line, and the label reads back.
	buf.Reset()
	sim := NewScoresWriter(&buf)
	sim.Simulated = true
	if err := sim.Write(recs[:1]); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != `{"query":4,"cycle":1,"doc":0,"score":0.25,"rank":0,"simulated":true}`+"\n" {
		t.Errorf("simulated line %q", got)
	}
	back = nil
	if err := ReadScores(strings.NewReader(buf.String()), func(r ScoreRecord) error { back = append(back, r); return nil }); err != nil || len(back) != 1 || !back[0].Simulated {
		t.Errorf("simulated read back %+v, %v", back, err)
	}
}

func TestNoLogprobsMessage(t *testing.T) {
	if !strings.Contains(ErrNoLogprobs.Error(), "on_device_sampling_config: null") || !strings.Contains(ErrNoLogprobs.Error(), "neuron_config") {
		t.Errorf("message %q must tell the user what to set", ErrNoLogprobs)
	}
}
