package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"loadgen/profiles"
	"loadgen/server"
)

// apiKeyEnv are the environment variables --api-key falls back to, in
// order: loadgen's own, then the one vLLM reads its key from.
var apiKeyEnv = []string{"LOADGEN_API_KEY", server.EnvAPIKey}

// apiKeyFlag is --api-key. It has no urfave EnvVars: a key typed on the
// command line for a server loadgen launches is an error, while one
// exported in the environment (VLLM_API_KEY often is, on a vLLM host) is
// simply not used for it, and only apiKey can tell the two apart. Its
// value is never printed: no default is shown, and loadgen writes it to no
// file.
func apiKeyFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "api-key",
		Usage: "API `KEY` of a server loadgen does not start (--url, server.url), sent as a bearer token; overrides server.api_key_env " +
			"[$LOADGEN_API_KEY, then $VLLM_API_KEY, unless the profile names an api_key_env]",
	}
}

// apiKey is the bearer key for the profile's server: --api-key if given
// (loadgen.Plan refuses it for a server loadgen launches); otherwise, for
// a server given by URL whose profile names no server.api_key_env, the
// first of apiKeyEnv that is set; otherwise "" (the profile's own
// server.api_key_env, if any, applies). A key an HTTP header cannot carry
// (server.CheckAPIKey) is bad input, named by where it came from.
func apiKey(c *cli.Context, p *profiles.Profile) (string, error) {
	key, from := "", ""
	switch {
	case c.IsSet("api-key"):
		key, from = c.String("api-key"), "--api-key"
	case p.Server.URL == "" || p.Server.APIKeyEnv != "":
		return "", nil
	default:
		for _, name := range apiKeyEnv {
			if v := os.Getenv(name); v != "" {
				key, from = v, name
				break
			}
		}
	}
	if key == "" {
		return "", nil
	}
	if err := server.CheckAPIKey(key); err != nil {
		return "", usagef("%s: %w", from, err)
	}
	return key, nil
}
