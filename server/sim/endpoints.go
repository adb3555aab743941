package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("GET /ping", s.handleHealth)
	mux.HandleFunc("POST /ping", s.handleHealth)
	mux.HandleFunc("GET /version", s.handleVersion)
	mux.HandleFunc("GET /load", s.handleLoad)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("POST /tokenize", s.handleTokenize)
	mux.HandleFunc("POST /detokenize", s.handleDetokenize)
	mux.Handle("GET /v1/models", s.auth(http.HandlerFunc(s.handleModels)))
	mux.Handle("POST /v1/completions", s.auth(http.HandlerFunc(s.handleCompletions)))
	if s.opts.DevMode {
		mux.HandleFunc("POST /reset_prefix_cache", s.handleResetPrefixCache)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
	return mux
}

// auth enforces --api-key on /v1 routes as vLLM's middleware does.
func (s *Server) auth(next http.Handler) http.Handler {
	if s.opts.APIKey == "" {
		return next
	}
	want := "Bearer " + s.opts.APIKey
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeJSON writes v as JSON without HTML escaping ("<|im_start|>" stays
// as is, as Python's json module writes it).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// handleHealth answers 200 with an empty body, 503 once the engine died.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !s.alive() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// versionInfo is GET /version: vLLM's {"version"} plus the simulator's
// marks, so every consumer can tell it is not real hardware.
type versionInfo struct {
	Version         string  `json:"version"`
	Simulated       bool    `json:"simulated"`
	SimSpeed        float64 `json:"sim_speed"`
	SimStartupSpeed float64 `json:"sim_startup_speed"`
	SimZeroLatency  bool    `json:"sim_zero_latency"`
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, versionInfo{Version: s.opts.Version(), Simulated: true, SimSpeed: s.opts.Speed,
		SimStartupSpeed: s.opts.StartupSpeed, SimZeroLatency: s.opts.ZeroLatency})
}

func (s *Server) handleLoad(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int64{"server_load": s.eng.nWaiting.Load() + s.eng.nRunning.Load()})
}

type modelPermission struct {
	ID                 string  `json:"id"`
	Object             string  `json:"object"`
	Created            int64   `json:"created"`
	AllowCreateEngine  bool    `json:"allow_create_engine"`
	AllowSampling      bool    `json:"allow_sampling"`
	AllowLogprobs      bool    `json:"allow_logprobs"`
	AllowSearchIndices bool    `json:"allow_search_indices"`
	AllowView          bool    `json:"allow_view"`
	AllowFineTuning    bool    `json:"allow_fine_tuning"`
	Organization       string  `json:"organization"`
	Group              *string `json:"group"`
	IsBlocking         bool    `json:"is_blocking"`
}

type modelCard struct {
	ID          string            `json:"id"`
	Object      string            `json:"object"`
	Created     int64             `json:"created"`
	OwnedBy     string            `json:"owned_by"`
	Root        string            `json:"root"`
	Parent      *string           `json:"parent"`
	MaxModelLen int               `json:"max_model_len"`
	Permission  []modelPermission `json:"permission"`
}

type modelList struct {
	Object string      `json:"object"`
	Data   []modelCard `json:"data"`
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	list := modelList{Object: "list", Data: []modelCard{}}
	for _, name := range s.opts.ServedNames() {
		list.Data = append(list.Data, modelCard{
			ID: name, Object: "model", Created: s.created, OwnedBy: "vllm", Root: s.opts.Model,
			MaxModelLen: s.opts.MaxModelLen,
			Permission: []modelPermission{{
				ID: "modelperm-" + s.nextID(), Object: "model_permission", Created: s.created,
				AllowSampling: true, AllowLogprobs: true, AllowView: true, Organization: "*",
			}},
		})
	}
	writeJSON(w, http.StatusOK, list)
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type tokenizeRequest struct {
	Model               *string       `json:"model"`
	Prompt              *string       `json:"prompt"`
	Messages            []chatMessage `json:"messages"`
	AddGenerationPrompt *bool         `json:"add_generation_prompt"`
	ReturnTokenStrs     bool          `json:"return_token_strs"`
}

type tokenizeResponse struct {
	Count       int      `json:"count"`
	MaxModelLen int      `json:"max_model_len"`
	Tokens      []int    `json:"tokens"`
	TokenStrs   []string `json:"token_strs"`
}

// handleTokenize is POST /tokenize, with a prompt or chat messages (Qwen's
// ChatML template). Qwen adds no BOS, so add_special_tokens changes nothing.
func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request) {
	var req tokenizeRequest
	if aerr := s.decodeAux(r, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if req.Model != nil && !s.names[*req.Model] {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "NotFoundError", message: "The model `" + *req.Model + "` does not exist."})
		return
	}
	var text string
	switch {
	case req.Prompt != nil:
		text = *req.Prompt
	case req.Messages != nil:
		var b strings.Builder
		for _, m := range req.Messages {
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		}
		if req.AddGenerationPrompt == nil || *req.AddGenerationPrompt {
			b.WriteString("<|im_start|>assistant\n")
		}
		text = b.String()
	default:
		writeError(w, validationError("Either `prompt` or `messages` must be set."))
		return
	}
	resp := tokenizeResponse{Tokens: Tokenize(nil, text), MaxModelLen: s.opts.MaxModelLen}
	resp.Count = len(resp.Tokens)
	if resp.Tokens == nil {
		resp.Tokens = []int{}
	}
	if req.ReturnTokenStrs {
		resp.TokenStrs = TokenPieces(text)
	}
	writeJSON(w, http.StatusOK, resp)
}

type detokenizeRequest struct {
	Model  *string `json:"model"`
	Tokens []int   `json:"tokens"`
}

func (s *Server) handleDetokenize(w http.ResponseWriter, r *http.Request) {
	var req detokenizeRequest
	if aerr := s.decodeAux(r, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if req.Model != nil && !s.names[*req.Model] {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "NotFoundError", message: "The model `" + *req.Model + "` does not exist."})
		return
	}
	text, err := Detokenize(req.Tokens)
	if err != nil {
		writeError(w, badRequest("%s", err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"prompt": text})
}

// decodeAux decodes a small JSON request body.
func (s *Server) decodeAux(r *http.Request, v any) *apiError {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return &apiError{status: http.StatusBadRequest, typ: "Bad Request", message: "error reading body: " + err.Error()}
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return &apiError{status: http.StatusBadRequest, typ: "Bad Request", message: "JSON decode error: " + err.Error()}
	}
	return nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	g := gauges{
		running: float64(s.eng.nRunning.Load()),
		waiting: float64(s.eng.nWaiting.Load()),
		kvUsage: min(1, float64(s.eng.kvUsed.Load())/float64(s.eng.blocks)),
	}
	var b bytes.Buffer
	s.met.render(&b, s.model, g, s.cacheInfo())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b.Bytes())
}

// handleResetPrefixCache is POST /reset_prefix_cache (dev mode only).
func (s *Server) handleResetPrefixCache(w http.ResponseWriter, r *http.Request) {
	s.eng.cache.reset()
	s.log.api("INFO", "api_server.py:1038", "Resetting prefix cache with specified device None...")
	w.WriteHeader(http.StatusOK)
}
