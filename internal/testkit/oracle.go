package testkit

import (
	"bytes"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Total is what a provider says an invoice (or an account and period)
// comes to, in one currency.
type Total struct {
	Provider, Period, Currency string
	Amount                     *big.Rat
}

// Oracles read each provider's totals straight from a capture folder, with
// encoding/json, strconv and math/big: no code of ours is involved. Each provider's
// file here adds its own.
var Oracles = map[string]func(t testing.TB, dir string) []Total{}

// Totals are the totals of every provider with captures in dir.
func Totals(t testing.TB, dir string) []Total {
	var out []Total
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range Oracles {
			if !yield(p) {
				return
			}
		}
	}) {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			out = append(out, Oracles[p](t, dir)...)
		}
	}
	return out
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// float15Of is the value of a number a vendor documents as a float64, as
// docs/vendors.md reads it: the float64, printed by strconv at 15
// significant digits.
func float15Of(t testing.TB, s string) *big.Rat {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q is not a float64: %v", s, err)
	}
	return ratOf(t, strconv.FormatFloat(f, 'e', 14, 64))
}

func ratOf(t testing.TB, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("%q is not a number", s)
	}
	return r
}

func sortedTotals(provider string, sums map[[2]string]*big.Rat) []Total {
	var out []Total
	for k, v := range sums {
		out = append(out, Total{provider, k[0], k[1], v})
	}
	slices.SortFunc(out, func(a, b Total) int { return strings.Compare(a.Period+a.Currency, b.Period+b.Currency) })
	return out
}

// Live starts each provider's fake API on the captures in dir (by slug):
// it returns the environment of a live run against it (the key and the
// address, the address passed through wrap, which may put a proxy in
// front). Each provider's file here adds its own, as with Oracles.
var Live = map[string]func(t testing.TB, dir string, wrap func(url string) string) map[string]string{}
