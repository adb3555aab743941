package loadgen

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestSmoke(t *testing.T) {
	srv := httptest.NewServer(FastHandler())
	defer srv.Close()
	res, err := Run(context.Background(), Phase{Name: "p", Arrival: ArrivalPoisson, Rate: 500, Queries: 200, Warmup: 2},
		&repeatSource{body: SyntheticBody}, Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(res, "", " ")
	t.Logf("%s", b)
}
