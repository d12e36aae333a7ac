package i18n

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
)

// faultTexts is what the repository's Go code asks the catalogue for.
type faultTexts struct {
	formats map[string]string // message id → where it is used
	fields  map[string]string // field name → where it is used
}

// formatArg is, for each fault constructor, the position of its format
// (or of the object NotFound names) and of its field, -1 for none.
var formatArg = map[string]struct{ format, field int }{
	"Invalid": {1, 0}, "Conflict": {1, -1}, "Forbidden": {0, -1}, "Unauthorized": {0, -1},
	"New": {2, -1}, "NotFound": {0, -1}, "Text": {-1, 0},
}

// collectFaultTexts parses every non-test Go file of the module and
// gathers the constant formats and field names given to fault's
// constructors, the messages of fault.Error literals and the fields named
// by With("field", …).
func collectFaultTexts(t *testing.T) faultTexts {
	t.Helper()
	root := moduleRoot(t)
	found := faultTexts{formats: map[string]string{}, fields: map[string]string{}}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
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
		inFault := file.Name.Name == "fault"
		// faultName is the name of a fault identifier: fault.X, or X inside fault.
		faultName := func(e ast.Expr) string {
			switch e := e.(type) {
			case *ast.SelectorExpr:
				if x, ok := e.X.(*ast.Ident); ok && x.Name == "fault" {
					return e.Sel.Name
				}
			case *ast.Ident:
				if inFault {
					return e.Name
				}
			}
			return ""
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if n == nil {
				return false
			}
			where := fset.Position(n.Pos()).String()
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "With" && len(n.Args) == 2 {
					if key, ok := constString(n.Args[0]); ok && key == "field" {
						if field, ok := constString(n.Args[1]); ok {
							found.fields[field] = where
						}
					}
				}
				pos, ok := formatArg[faultName(n.Fun)]
				if !ok {
					return true
				}
				if pos.field >= 0 && pos.field < len(n.Args) {
					if field, ok := constString(n.Args[pos.field]); ok {
						found.fields[field] = where
					}
				}
				if pos.format >= 0 && pos.format < len(n.Args) {
					if format, ok := constString(n.Args[pos.format]); ok {
						if faultName(n.Fun) == "NotFound" {
							format += " not found"
						}
						found.formats[format] = where
					}
				}
			case *ast.CompositeLit:
				if faultName(n.Type) != "Error" {
					return true
				}
				for _, elt := range n.Elts {
					if kv, ok := elt.(*ast.KeyValueExpr); ok {
						if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "Message" {
							if msg, ok := constString(kv.Value); ok {
								found.formats[msg] = where
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for format := range found.formats {
		if !strings.ContainsFunc(verbs.ReplaceAllString(format, ""), unicode.IsLetter) {
			delete(found.formats, format) // "%s" passes a text translated already
		}
	}
	return found
}

// constString is the value of a string literal or a sum of them.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			x, okX := constString(e.X)
			y, okY := constString(e.Y)
			return x + y, okX && okY
		}
	case *ast.ParenExpr:
		return constString(e.X)
	}
	return "", false
}

func TestEveryFaultHasItsText(t *testing.T) {
	c := newCatalog(t)
	found := collectFaultTexts(t)
	if len(found.formats) < 150 {
		t.Fatalf("found only %d fault formats; is the parser still looking in the right place?", len(found.formats))
	}
	for _, format := range sortedKeys(found.formats) {
		for _, locale := range c.Locales() {
			if _, ok := c.texts[locale][format]; !ok {
				t.Errorf("%s: %s: fault %q has no text", found.formats[format], locale, format)
			}
		}
	}
	for _, field := range sortedKeys(found.fields) {
		for _, locale := range c.Locales() {
			if _, ok := c.texts[locale]["field."+field]; !ok {
				t.Errorf("%s: %s: field %q has no label", found.fields[field], locale, field)
			}
		}
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestFaultReadsInTheUsersLanguage(t *testing.T) {
	c := newCatalog(t)
	cases := []struct {
		name, locale string
		err          error
		want         string
	}{
		{"a required field, with its label", "fi", fault.Text("body", "", 1, 20000, true), "Viesti on pakollinen."},
		{"limits are rendered", "fi", fault.Text("title", strings.Repeat("x", 201), 1, 200, false), "Otsikko: enintään 200 merkkiä."},
		{"english renders the label too", "en", fault.Text("body", "", 1, 20000, true), "Message is required."},
		{"not found names the object", "fi", fault.NotFound("request"), "Pyyntöä ei löydy."},
		{"a literal is looked up by its message", "fi",
			&fault.Error{Kind: fault.KindForbidden, Code: "x", Message: "cross-site sign-in refused"}, "Kirjautuminen toiselta sivustolta estettiin."},
		{"an unknown fault keeps its english message", "fi", fault.Conflict("x", "no text for %d", 7), "no text for 7"},
		{"an error that is no fault says nothing of its cause", "fi", errors.New("pq: connection refused"), "Jokin meni vikaan"},
		{"a locale without the text falls back to english", "sv", fault.NotFound("request"), "Request not found."},
		{"statuses and actions read as their texts", "fi", fault.Conflict("invalid_transition", "period %s is %s; cannot %s it",
			"2026-11", fault.Term{Group: "period.status", Name: "open"}, fault.Term{Group: "periods", Name: "review"}),
			"Kauden 2026-11 tila on Avoin; toimintoa Siirrä tarkastukseen ei voi tehdä."},
		{"english keeps the bare status", "en", fault.Conflict("request_final", "no time can be logged on a request that is %s",
			fault.Term{Group: "status", Name: "closed"}), "No time can be logged on a request that is closed."},
		{"a text for the fault's code wins over its format", "fi", fault.Conflict("already_disputed", "charge %d is already disputed", 7),
			"Tämä veloitus on jo kiistetty."},
		{"amounts read the locale's way", "fi", fault.Conflict("no_such", "posting %s would take the unit's hard budget for %s below zero: %s of %s used, %s remaining; finance must raise the budget first",
			money.Money{Minor: 123456, Currency: "EUR"}, "2026-11", money.Money{Minor: 0, Currency: "EUR"}, money.Money{Minor: 100000, Currency: "EUR"}, money.Money{Minor: 100000, Currency: "EUR"}),
			"Kirjaus 1\u00a0234,56\u00a0€ veisi yksikön sitovan budjetin kuukaudelle 2026-11 alle nollan: käytetty 0,00\u00a0€ / 1\u00a0000,00\u00a0€, jäljellä 1\u00a0000,00\u00a0€. Talouden on ensin korotettava budjettia."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Fault(tc.locale, tc.err); got != tc.want {
				t.Errorf("Fault(%s) = %q, want %q", tc.locale, got, tc.want)
			}
		})
	}
}
