package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryAuditedObjectAndActionHasItsWords: the trail names an event's
// object type and action in the reader's language (audit.object.X,
// audit.action.X), so every ObjectType and Action a Go file records as a
// constant needs both texts in every locale; an object type without them
// reads as its raw id to a Finnish auditor.
func TestEveryAuditedObjectAndActionHasItsWords(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	want := map[string]string{} // key → where it is used
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			key, ok := kv.Key.(*ast.Ident)
			if !ok || (key.Name != "ObjectType" && key.Name != "Action") {
				return true
			}
			value, ok := constString(kv.Value)
			if !ok || value == "" {
				return true
			}
			group := "audit.object."
			if key.Name == "Action" {
				group = "audit.action."
			}
			want[group+value] = fset.Position(kv.Pos()).String()
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 20 {
		t.Fatalf("found only %d audited object types and actions: the scan is broken", len(want))
	}
	c := newCatalog(t)
	for _, key := range sortedKeys(want) {
		for _, locale := range []string{"en", "fi"} {
			if _, ok := c.texts[locale][key]; !ok {
				t.Errorf("%s: %s: %q has no text", want[key], locale, key)
			}
		}
	}
}
