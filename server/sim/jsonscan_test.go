package sim

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// refDecode decodes a completion request with encoding/json, matching keys
// exactly (pydantic is case-sensitive; encoding/json alone is not).
func refDecode(body []byte) (completionRequest, error) {
	var req completionRequest
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return req, err
	}
	var typeErr error
	set := func(key string, dst any) {
		raw, ok := m[key]
		if !ok {
			return
		}
		if err := json.Unmarshal(raw, dst); err != nil && typeErr == nil {
			typeErr = err
		}
	}
	set("model", &req.Model)
	set("max_tokens", &req.MaxTokens)
	set("temperature", &req.Temperature)
	set("logprobs", &req.Logprobs)
	set("echo", &req.Echo)
	set("stream", &req.Stream)
	set("allowed_token_ids", &req.AllowedTokenIDs)
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
			if typeErr == nil {
				typeErr = errors.New("prompt type")
			}
		}
	}
	return req, typeErr
}

// FuzzCompletionRequest checks the hand-written decoder against
// encoding/json: the same bodies are rejected as broken JSON, the same
// fail on types, and the others decode to the same values.
func FuzzCompletionRequest(f *testing.F) {
	f.Add([]byte(benchBody))
	f.Add([]byte(`{"prompt":[[1,2],[3]],"max_tokens":null,"logprobs":2,"x":{"y":[1,"\u00e9\ud83d\ude00"]}}`))
	f.Add([]byte(`{"prompt":["a","b"],"temperature":0.5e1,"stream":false,"model":"rr"}`))
	f.Add([]byte(`{"prompt":[1,2,3],"allowed_token_ids":[],"echo":true}`))
	f.Add([]byte(`{"prompt":"\ud800x","model":"a\"b"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got completionRequest
		gotErr := decodeCompletion(body, &got)
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) != nil {
			if gotErr == nil {
				t.Fatalf("accepted what encoding/json rejects: %q", body)
			}
			var te *typeError
			if errors.As(gotErr, &te) && json.Valid(body) {
				return // a non-object body: both reject it
			}
			if errors.As(gotErr, &te) {
				t.Fatalf("broken JSON %q reported as a type error %v", body, gotErr)
			}
			return
		}
		want, wantErr := refDecode(body)
		var te *typeError
		if gotErr != nil && !errors.As(gotErr, &te) {
			t.Fatalf("valid JSON %q rejected: %v", body, gotErr)
		}
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%q: decoder error %v, encoding/json %v", body, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if !reflect.DeepEqual(got.Model, want.Model) || !reflect.DeepEqual(got.MaxTokens, want.MaxTokens) ||
			!reflect.DeepEqual(got.Temperature, want.Temperature) || !reflect.DeepEqual(got.Logprobs, want.Logprobs) ||
			got.Echo != want.Echo || got.Stream != want.Stream || !reflect.DeepEqual(got.AllowedTokenIDs, want.AllowedTokenIDs) {
			t.Fatalf("%q: decoded %+v, encoding/json %+v", body, got, want)
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
