// Package i18n holds every sentence a user reads, in message files, one per
// locale (locales/<locale>.json, a flat map from key to printf-style text),
// and the one translator that renders them. Adding a language is adding a
// file; English is the fallback every other locale leans on.
//
// Numbers, amounts and dates follow the "format.*" keys of each file (see
// Format), so a new language brings its own separators and layouts.
//
// Keys are of two kinds: named keys for page texts ("nav.home") and, for
// faults, the fault's English format itself (gettext style), so a domain
// package that writes fault.Invalid("body", "%s is required", "body")
// needs no key of its own. Field names render through "field.<name>".
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Fallback is the locale every other one falls back to, and the one the
// fault ids are written in.
const Fallback = "en"

//go:embed locales/*.json
var files embed.FS

// Catalog holds the texts of every locale.
type Catalog struct {
	texts   map[string]map[string]string // locale → key → text
	formats map[string]Format            // locale → its number and date format
	locales []string
}

// New loads the catalogues built into the binary.
func New() (*Catalog, error) {
	sub, err := fs.Sub(files, "locales")
	if err != nil {
		return nil, err
	}
	return Load(sub)
}

// Load reads one <locale>.json per locale from the root of fsys. The
// fallback locale must be among them.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	c := &Catalog{texts: map[string]map[string]string{}}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var texts map[string]string
		if err := json.Unmarshal(raw, &texts); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		locale := strings.TrimSuffix(path.Base(name), ".json")
		c.texts[locale] = texts
		c.locales = append(c.locales, locale)
	}
	if _, ok := c.texts[Fallback]; !ok {
		return nil, fmt.Errorf("i18n: no %s.json among %v", Fallback, names)
	}
	sort.Strings(c.locales)
	c.formats = map[string]Format{}
	for _, locale := range c.locales {
		if c.formats[locale], err = c.readFormat(locale); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Available lists the locales of the message files built into the binary,
// sorted: the languages a user may choose. It reads only the file names,
// so the domain can check a user's locale without loading the catalogue.
func Available() []string {
	names, _ := fs.Glob(files, "locales/*.json")
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = strings.TrimSuffix(path.Base(name), ".json")
	}
	sort.Strings(out)
	return out
}

// Locales lists the locales present, sorted.
func (c *Catalog) Locales() []string { return append([]string(nil), c.locales...) }

// lookup finds key in locale, else in the fallback locale.
func (c *Catalog) lookup(locale, key string) (string, bool) {
	if text, ok := c.texts[locale][key]; ok {
		return text, true
	}
	text, ok := c.texts[Fallback][key]
	return text, ok
}

// T returns the text for key in locale, formatted with args; a key no
// locale knows comes back as itself, so a gap shows on the page.
func (c *Catalog) T(locale, key string, args ...any) string {
	text, ok := c.lookup(locale, key)
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(text, args...)
	}
	return text
}
