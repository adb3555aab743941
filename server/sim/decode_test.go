package sim

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"loadgen/loadgen/jsonscan"
)

// refDecode decodes a completion request with encoding/json, matching keys
// exactly (pydantic is case-sensitive; encoding/json alone is not): every
// field decodeCompletion reads, from a map of raw values, so the last of
// duplicate keys wins.
func refDecode(body []byte) (completionRequest, error) {
	var req completionRequest
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return req, err
	}
	var typeErr error
	note := func(err error) {
		if err != nil && typeErr == nil {
			typeErr = err
		}
	}
	set := func(m map[string]json.RawMessage, key string, dst any) {
		if raw, ok := m[key]; ok {
			note(json.Unmarshal(raw, dst))
		}
	}
	set(m, "model", &req.Model)
	set(m, "max_tokens", &req.MaxTokens)
	set(m, "temperature", &req.Temperature)
	set(m, "logprobs", &req.Logprobs)
	set(m, "echo", &req.Echo)
	set(m, "stream", &req.Stream)
	set(m, "allowed_token_ids", &req.AllowedTokenIDs)
	set(m, "return_tokens_as_token_ids", &req.ReturnTokensAsTokenIDs)
	set(m, "n", &req.N)
	set(m, "suffix", &req.Suffix)
	set(m, "prompt_logprobs", &req.PromptLogprobs)
	set(m, "truncate_prompt_tokens", &req.TruncatePromptTokens)
	set(m, "seed", &req.Seed)
	set(m, "request_id", &req.RequestID)
	if raw, ok := m["stream_options"]; ok && string(raw) != "null" {
		var so map[string]json.RawMessage
		if err := json.Unmarshal(raw, &so); err != nil {
			note(err)
		} else {
			req.StreamOptions = &streamOptions{}
			set(so, "include_usage", &req.StreamOptions.IncludeUsage)
			set(so, "continuous_usage_stats", &req.StreamOptions.ContinuousUsageStats)
		}
	}
	if raw, ok := m["prompt"]; ok {
		var s string
		var ss []string
		var ids []int
		var nested [][]int
		switch {
		case string(raw) == "null":
		case json.Unmarshal(raw, &s) == nil:
			req.promptSet, req.promptStrs = true, []string{s}
		case json.Unmarshal(raw, &ss) == nil && len(ss) > 0:
			req.promptSet, req.promptStrs = true, ss
		case json.Unmarshal(raw, &ids) == nil:
			req.promptSet = true
			if len(ids) == 0 {
				req.promptEmpty = true
			} else {
				req.promptIDs = [][]int{ids}
			}
		case json.Unmarshal(raw, &nested) == nil && len(nested) > 0:
			req.promptSet, req.promptIDs = true, nested
		default:
			note(errors.New("prompt type"))
		}
	}
	return req, typeErr
}

// FuzzCompletionRequest checks the decoder against encoding/json: the same
// bodies are rejected as broken JSON (and a valid body that is not an
// object too), the same fail on types, and the others decode to the same
// values, field by field and prompt element by element.
func FuzzCompletionRequest(f *testing.F) {
	for _, s := range []string{
		benchBody,
		`{"prompt":[[1,2],[3]],"max_tokens":null,"logprobs":2,"x":{"y":[1,"\u00e9\ud83d\ude00"]}}`,
		`{"prompt":["a","b"],"temperature":0.5e1,"stream":false,"model":"rr"}`,
		`{"prompt":[1,2,3],"allowed_token_ids":[],"echo":true}`,
		`{"prompt":"\ud800x","model":"a\"b"}`,
		`{"prompt":[null,[1,null]],"allowed_token_ids":[1,null],"stream_options":{"include_usage":null}}`,
		`{"prompt":[null,null],"prompt":[-0,1],"seed":-9223372036854775808,"temperature":1e400}`,
		`{"n":2,"suffix":null,"prompt_logprobs":0,"truncate_prompt_tokens":-1,"return_tokens_as_token_ids":true,"request_id":"r","seed":0.0}`,
	} {
		f.Add([]byte(s))
	}
	public := func(r completionRequest) completionRequest {
		r.promptSet, r.promptEmpty, r.promptStrs, r.promptIDs = false, false, nil, nil
		return r
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got completionRequest
		gotErr := decodeCompletion(body, &got)
		var te *jsonscan.TypeError
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) != nil || top == nil {
			if !errors.Is(gotErr, jsonscan.ErrSyntax) {
				t.Fatalf("%q: error %v, want a JSON decode error (encoding/json rejects it or it is not an object)", body, gotErr)
			}
			return
		}
		want, wantErr := refDecode(body)
		if gotErr != nil && !errors.As(gotErr, &te) {
			t.Fatalf("valid JSON %q rejected: %v", body, gotErr)
		}
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%q: decoder error %v, encoding/json %v", body, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if !reflect.DeepEqual(public(got), public(want)) {
			t.Fatalf("%q: decoded %+v, encoding/json %+v", body, public(got), public(want))
		}
		if got.promptSet != want.promptSet || got.promptEmpty != want.promptEmpty ||
			len(got.promptStrs) != len(want.promptStrs) || !reflect.DeepEqual(got.promptIDs, want.promptIDs) && len(got.promptIDs)+len(want.promptIDs) > 0 {
			t.Fatalf("%q: prompt %+v / %+v, encoding/json %+v / %+v", body, got.promptStrs, got.promptIDs, want.promptStrs, want.promptIDs)
		}
		for i := range got.promptStrs {
			if got.promptStrs[i] != want.promptStrs[i] {
				t.Fatalf("%q: prompt %q, encoding/json %q", body, got.promptStrs[i], want.promptStrs[i])
			}
		}
	})
}

// BenchmarkDecodeCompletion measures decoding the request the wrk figure
// is measured with (benchBody), the simulator's one hot-path body.
func BenchmarkDecodeCompletion(b *testing.B) {
	body := []byte(benchBody)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var req completionRequest // as parseCompletion does
		if err := decodeCompletion(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
