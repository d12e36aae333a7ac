package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web"
)

// openAPIPrefix is the server url of the OpenAPI document.
const openAPIPrefix = "/api/v1"

// openAPIMethods are the keys of an OpenAPI path item that name operations.
var openAPIMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// openAPIServer builds a server over a fresh SQLite database, the way
// `tiski serve` does.
func openAPIServer(t *testing.T) *web.Server {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, db.SQLite)
	var org *units.Organisation
	err := d.InTx(ctx, func(tx bun.Tx) (err error) {
		org, err = units.EnsureOrganisation(ctx, tx, "EUR", "UTC")
		return err
	})
	if err != nil {
		t.Fatalf("organisation: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authz, err := policies.New(ctx, d, log)
	if err != nil {
		t.Fatalf("policies: %v", err)
	}
	return web.New(d, authz, org, log, web.DefaultConfig())
}

// loadOpenAPISpec reads and decodes openapi.json from the package directory.
func loadOpenAPISpec(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatalf("read openapi.json: %v", err)
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return spec
}

// openAPIOperations returns "method path" for every operation in the spec,
// with the method in lower case, and the operation objects by that key.
func openAPIOperations(t *testing.T, spec map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := spec["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		t.Fatal("openapi.json has no paths")
	}
	ops := map[string]map[string]any{}
	for path, item := range paths {
		pathItem, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not an object", path)
		}
		for method, op := range pathItem {
			if !openAPIMethods[method] {
				continue
			}
			opObj, ok := op.(map[string]any)
			if !ok {
				t.Fatalf("%s %s is not an object", method, path)
			}
			ops[method+" "+path] = opObj
		}
	}
	return ops
}

var openAPIEchoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openAPIRoutes returns "method path" for every route the server registers under
// /api/v1, in the spec's notation: lower-case method, path relative to the
// server url, {name} for path parameters.
func openAPIRoutes(t *testing.T, srv *web.Server) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range srv.Routes() {
		if !strings.HasPrefix(r.Path, openAPIPrefix+"/") {
			continue
		}
		// echo lists internal entries (such as the group's catch-all
		// "echo_route_any") by method name; only real HTTP methods count.
		if !openAPIMethods[strings.ToLower(r.Method)] {
			continue
		}
		path := openAPIEchoParam.ReplaceAllString(strings.TrimPrefix(r.Path, openAPIPrefix), "{$1}")
		out[strings.ToLower(r.Method)+" "+path] = true
	}
	if len(out) == 0 {
		t.Fatal("the server registers no routes under " + openAPIPrefix)
	}
	return out
}

func openAPISortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	spec := loadOpenAPISpec(t)
	ops := openAPIOperations(t, spec)
	routes := openAPIRoutes(t, openAPIServer(t))
	for _, r := range openAPISortedKeys(routes) {
		if _, ok := ops[r]; !ok {
			method, path, _ := strings.Cut(r, " ")
			t.Errorf("route %s %s%s is registered but missing from openapi.json",
				strings.ToUpper(method), openAPIPrefix, path)
		}
	}
	for _, op := range openAPISortedKeys(ops) {
		if !routes[op] {
			t.Errorf("openapi.json describes %s, which is not a registered route under %s", op, openAPIPrefix)
		}
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	ts := httptest.NewServer(openAPIServer(t).Handler())
	t.Cleanup(ts.Close)
	res, err := http.Get(ts.URL + openAPIPrefix + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	mediaType, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", res.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatalf("served document does not parse: %v", err)
	}
	version, _ := doc["openapi"].(string)
	if !strings.HasPrefix(version, "3.1") {
		t.Fatalf("openapi = %q, want 3.1.x", version)
	}
	servers, _ := doc["servers"].([]any)
	if len(servers) == 0 {
		t.Fatal("the document has no servers")
	}
	if first, _ := servers[0].(map[string]any); first["url"] != openAPIPrefix {
		t.Errorf("servers[0].url = %v, want %s", first["url"], openAPIPrefix)
	}
}

func TestOpenAPIStructure(t *testing.T) {
	spec := loadOpenAPISpec(t)
	ops := openAPIOperations(t, spec)
	seen := map[string]string{}
	for _, key := range openAPISortedKeys(ops) {
		op := ops[key]
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", key)
		} else if other, dup := seen[id]; dup {
			t.Errorf("operationId %q is used by both %s and %s", id, other, key)
		} else {
			seen[id] = key
		}
		if desc, _ := op["description"].(string); !strings.Contains(desc, "Who:") {
			t.Errorf("%s: description does not say who may call it", key)
		}
		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s has no responses", key)
		}
	}

	components, _ := spec["components"].(map[string]any)
	var walk func(node any, where string)
	walk = func(node any, where string) {
		switch v := node.(type) {
		case map[string]any:
			if r, ok := v["$ref"]; ok {
				s, _ := r.(string)
				if !openAPIRefResolves(components, s) {
					t.Errorf("%s: $ref %q does not resolve to a component", where, s)
				}
			}
			for _, k := range openAPISortedKeys(v) {
				walk(v[k], where+"/"+k)
			}
		case []any:
			for _, item := range v {
				walk(item, where+"[]")
			}
		}
	}
	walk(spec, "#")
}

// openAPIRefResolves reports whether ref is "#/components/<kind>/<name>" naming an
// existing component.
func openAPIRefResolves(components map[string]any, ref string) bool {
	parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
	if !strings.HasPrefix(ref, "#/components/") || len(parts) != 2 {
		return false
	}
	kind, _ := components[parts[0]].(map[string]any)
	name := strings.NewReplacer("~1", "/", "~0", "~").Replace(parts[1])
	_, ok := kind[name]
	return ok
}
