package workload

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The shipped sample dataset (profiles/data/insurance.csv and .jsonl) is
// written by WriteSample: SampleDocuments documents for each query of
// sampleTopics, composed from our own insurance text. Per query, the
// documents' lengths are split so that the whole prompt (template,
// instruction, query, document) spans the context buckets by
// EstimateTokens: 12 short (≤256 tokens), 5 medium (257–512), 2 long
// (513–1024) and 1 very long (over 1024; every other query's is over 1500,
// so it needs truncation at max_length 1500): 60/25/10/5 percent. Documents
// are shuffled within each query; 4 or 5 of them are relevant.
//
// Regenerate the committed files after changing the generator or the text:
// go test ./workload -run TestSampleGolden -update (and check the
// distribution with go test ./workload -run TestSampleDistribution -v).
const (
	// SampleDocuments is the number of documents per sample query (the
	// offline search_num).
	SampleDocuments = 20
	sampleSeed      = 20260117
)

// EstimateTokens estimates the token count of English text as 1.3 tokens per
// whitespace-separated word. It is the yardstick of the sample dataset's
// length classes; prompts use the server's tokenizer or the character
// fallback instead.
func EstimateTokens(text string) int {
	return int(math.Ceil(1.3 * float64(len(strings.Fields(text)))))
}

// sampleClass is a length class: prompt tokens by EstimateTokens.
type sampleClass struct {
	loTokens, hiTokens int
	long               bool // written as sections with headings
}

var (
	classShort  = sampleClass{100, 250, false}
	classMedium = sampleClass{290, 500, false}
	classLong   = sampleClass{560, 1000, true}
	classLonger = sampleClass{1060, 1480, true}
	classHuge   = sampleClass{1560, 2000, true}
)

// sampleSlot is one document to write: its class and whether it answers.
type sampleSlot struct {
	class    sampleClass
	relevant bool
}

// SampleQueries returns the sample dataset as queries, exactly as
// WriteSample writes it.
func SampleQueries() []Query {
	rng := splitmix(sampleSeed)
	b := &Builder{opts: PromptOptions{Instruction: DefaultInstruction, MaxChars: -1}}
	var out []Query
	for qi, topic := range sampleTopics {
		if topic.Query == "" {
			continue
		}
		slots := sampleSlots(qi)
		for i := len(slots) - 1; i > 0; i-- {
			j := rng.intn(i + 1)
			slots[i], slots[j] = slots[j], slots[i]
		}
		body, _ := b.Body(topic.Query, "")
		overhead := len(strings.Fields(PromptPrefix + body + PromptSuffix))
		q := Query{Index: len(out), Text: topic.Query, Relevant: []int{}}
		for d, s := range slots {
			q.Documents = append(q.Documents, composeSample(&rng, qi, s, overhead))
			if s.relevant {
				q.Relevant = append(q.Relevant, d)
			}
		}
		out = append(out, q)
	}
	return out
}

// sampleSlots lists a query's documents before shuffling.
func sampleSlots(qi int) []sampleSlot {
	var slots []sampleSlot
	add := func(c sampleClass, n, relevant int) {
		for i := range n {
			slots = append(slots, sampleSlot{c, i < relevant})
		}
	}
	add(classShort, 12, 2)
	add(classMedium, 5, 1)
	add(classLong, 2, 1)
	huge := classLonger
	if qi%2 == 1 {
		huge = classHuge
	}
	vlRelevant := 0
	if qi%4 < 2 {
		vlRelevant = 1
	}
	add(huge, 1, vlRelevant)
	return slots
}

// composeSample writes one document: sentences from the query's topic first
// when relevant, then from other topics, until its word count reaches a
// target drawn within the class, never exceeding the class's maximum.
func composeSample(rng *splitmix, qi int, s sampleSlot, overhead int) string {
	words := func(tokens int) int { return int(float64(tokens)/1.3) - overhead }
	lo, hi := words(s.class.loTokens), words(s.class.hiTokens)
	target := lo + rng.intn(hi-lo+1)

	var order []int // topics, in the order they are used
	if s.relevant {
		order = append(order, qi)
	}
	others := make([]int, 0, len(sampleTopics)-1)
	for t := range sampleTopics {
		if t != qi {
			others = append(others, t)
		}
	}
	for i := len(others) - 1; i > 0; i-- {
		j := rng.intn(i + 1)
		others[i], others[j] = others[j], others[i]
	}
	order = append(order, others...)

	var doc strings.Builder
	n := 0
	if s.class.long {
		title := fmt.Sprintf("%s policyholder guide, part %d.",
			sampleInsurers[rng.intn(len(sampleInsurers))], 1+rng.intn(9))
		doc.WriteString(title)
		n += len(strings.Fields(title))
	}
	for _, t := range order {
		if n >= target {
			break
		}
		topic := sampleTopics[t]
		sents := append([]string(nil), topic.Answers...)
		// Start at a random answer so documents of a topic differ.
		k := rng.intn(len(topic.Answers))
		sents = append(sents[k:], sents[:k]...)
		sents = append(sents, topic.Details...)
		var para []string
		pn := 0
		if s.class.long {
			pn = len(strings.Fields(topic.Heading))
		}
		for _, sent := range sents {
			w := len(strings.Fields(sent))
			if n+pn+w > hi {
				continue
			}
			para = append(para, sent)
			pn += w
			if n+pn >= target {
				break
			}
		}
		if len(para) == 0 {
			continue
		}
		if doc.Len() > 0 {
			doc.WriteString("\n\n")
		}
		if s.class.long {
			doc.WriteString(topic.Heading + "\n")
		}
		doc.WriteString(strings.Join(para, " "))
		n += pn
	}
	return doc.String()
}

// WriteSample writes the sample dataset in format FormatCSV (the offline
// shape: query, answer_0 … answer_19) or FormatJSONL ({"query",
// "documents", "relevant"}). The output is byte-for-byte deterministic.
func WriteSample(w io.Writer, format string) error {
	queries := SampleQueries()
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(w)
		header := []string{"query"}
		for i := range SampleDocuments {
			header = append(header, "answer_"+strconv.Itoa(i))
		}
		if err := cw.Write(header); err != nil {
			return fmt.Errorf("writing sample: %w", err)
		}
		for _, q := range queries {
			if err := cw.Write(append([]string{q.Text}, q.Documents...)); err != nil {
				return fmt.Errorf("writing sample: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("writing sample: %w", err)
		}
		return nil
	case FormatJSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, q := range queries {
			row := struct {
				Query     string   `json:"query"`
				Documents []string `json:"documents"`
				Relevant  []int    `json:"relevant"`
			}{q.Text, q.Documents, q.Relevant}
			if err := enc.Encode(row); err != nil {
				return fmt.Errorf("writing sample: %w", err)
			}
		}
		return nil
	}
	return fmt.Errorf("sample format %q: want %q or %q", format, FormatCSV, FormatJSONL)
}
