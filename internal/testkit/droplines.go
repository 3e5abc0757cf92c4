package testkit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CopyCaptures copies a capture folder into a new temporary folder, for a
// test that rewrites what the vendors send.
func CopyCaptures(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "captures")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// DropLines rewrites the captures in dir as a vendor that keeps period's
// invoices but stops sending their lines: WarpStream's daily breakdowns
// of period come with every breakdowns array empty, and CockroachDB's
// invoices of period (in the list and one by one) with no invoice_items.
// Numbers keep their text.
func DropLines(t testing.TB, dir, period string) {
	t.Helper()
	rewrite := func(path string, edit func(doc map[string]any)) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var doc map[string]any
		if err := d.Decode(&doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		edit(doc)
		if b, err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list := func(v any) []any { l, _ := v.([]any); return l }
	obj := func(v any) map[string]any { o, _ := v.(map[string]any); return o }

	ws := filepath.Join(dir, "warpstream", "invoice_breakdowns", period+".json")
	if _, err := os.Stat(ws); err == nil {
		rewrite(ws, func(doc map[string]any) {
			for _, tn := range list(doc["tenants"]) {
				for _, w := range list(obj(tn)["workspaces"]) {
					for _, c := range list(obj(w)["clusters"]) {
						for _, ch := range list(obj(c)["charges"]) {
							obj(ch)["breakdowns"] = []any{}
						}
					}
				}
			}
		})
	}
	dropItems := func(inv map[string]any) {
		if start, _ := inv["period_start"].(string); strings.HasPrefix(start, period) {
			inv["invoice_items"] = []any{}
		}
	}
	crdb := filepath.Join(dir, "cockroachdb")
	if _, err := os.Stat(crdb); err == nil {
		rewrite(filepath.Join(crdb, "invoices.json"), func(doc map[string]any) {
			for _, inv := range list(doc["invoices"]) {
				dropItems(obj(inv))
			}
		})
		files, _ := filepath.Glob(filepath.Join(crdb, "invoice", "*.json"))
		for _, f := range files {
			rewrite(f, dropItems)
		}
	}
}
