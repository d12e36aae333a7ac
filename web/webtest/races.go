package webtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// RaceResult is one answer of a concurrent call.
type RaceResult struct {
	Status int
	Body   []byte
	JSON   map[string]any
	Err    error
}

// Code is the error envelope's code of a raced call.
func (r RaceResult) Code() string {
	e, _ := r.JSON["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// RaceCall is client.call for goroutines: it reports transport errors
// instead of failing the test from outside the test's goroutine.
func (c *Client) RaceCall(method, path string, body []byte, header map[string]string) RaceResult {
	req, err := http.NewRequest(method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return RaceResult{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.CSRF)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return RaceResult{Err: err}
	}
	defer res.Body.Close()
	out := RaceResult{Status: res.StatusCode}
	out.Body, out.Err = io.ReadAll(res.Body)
	_ = json.Unmarshal(out.Body, &out.JSON)
	return out
}
