package transform

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
)

func TestParseFloat64(t *testing.T) {
	cases := []struct{ in, want, err string }{
		// Float sums as the vendors print them (testdata/vendor-examples).
		{in: "988.5700000000002", want: "988.57"},
		{in: "1001.0700000000002", want: "1001.07"},
		{in: "83.24000000000001", want: "83.24"},
		{in: "0.30000000000000004", want: "0.3"},
		{in: "26.666666666666675", want: "26.6666666666667"},
		{in: "46.66666666666667", want: "46.6666666666667"},
		{in: "-39.999999999999995", want: "-40"},
		{in: "29.166666666666668", want: "29.1666666666667"},
		// The same float64 however many digits are printed.
		{in: "988.57000000000016370904631912708282470703125", want: "988.57"},
		{in: "9.8857000000000016e2", want: "988.57"},
		// Decimals of at most 15 digits come back as they are.
		{in: "0", want: "0"},
		{in: "-0.0", want: "0"},
		{in: "22.77", want: "22.77"},
		{in: "0.1", want: "0.1"},
		{in: "-37.06", want: "-37.06"},
		{in: "0.00000463", want: "0.00000463"},
		{in: "12345678901.2345", want: "12345678901.2345"},
		{in: "99999999999999.9", want: "99999999999999.9"},
		// 16 digits and more are rounded at the 15th, half to even on the
		// float64's exact value: both of these are exact in binary and
		// exactly halfway.
		{in: "1234567890123.125", want: "1234567890123.12"},
		{in: "1234567890123.375", want: "1234567890123.38"},
		{in: "0.03288155235350132", want: "0.0328815523535013"},
		// Tiny values keep 15 digits down to the 24th decimal.
		{in: "1.2345678901234567e-7", want: "0.000000123456789012346"},
		{in: "2.220446049250313e-16", want: "0.000000000000000222044605"},
		{in: "1e-30", want: "0"},
		// What no float64 of our range can be.
		{in: "100000000000000", err: "out of range"},
		{in: "99999999999999.99", err: "out of range"}, // its float64 prints 1e14 at 15 digits
		{in: "1e400", err: "out of range"},
		{in: "NaN", err: "not a number"},
		{in: "0x1p-2", err: "not a number"},
		{in: "1_000", err: "not a number"},
		{in: "Infinity", err: "not a number"},
		{in: "", err: "not a number"},
	}
	for _, c := range cases {
		got, err := ParseFloat64([]byte(c.in))
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseFloat64(%q) = %v, %v; want an error with %q", c.in, got, err, c.err)
			}
		case err != nil || got.String() != c.want:
			t.Errorf("ParseFloat64(%q) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
}

// A decimal of at most 15 significant digits is read back exactly from
// any float64 text of it, and a float64 sum of a few amounts in cents,
// printed as Go prints it, reads as the exact decimal sum.
func TestParseFloat64RecoversDecimals(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		// 1 to 15 digits, up to 8 of them decimals, below 1e14.
		digits := 1 + rng.IntN(15)
		scale := rng.IntN(min(digits, 8) + 1)
		if digits-scale > 14 {
			scale = digits - 14 // below 1e14
		}
		m := rng.Int64N(pow10(digits))
		if rng.IntN(2) == 0 {
			m = -m
		}
		want := new(big.Rat).SetFrac64(m, pow10(scale))
		f, _ := want.Float64()
		for _, text := range []string{strconv.FormatFloat(f, 'g', -1, 64), strconv.FormatFloat(f, 'e', 16, 64), strconv.FormatFloat(f, 'f', -1, 64)} {
			got, err := ParseFloat64([]byte(text))
			if err != nil || ratOf(got).Cmp(want) != 0 {
				t.Fatalf("%s (float64 of %s): got %v, %v", text, want.FloatString(scale), got, err)
			}
		}
	}
	// An invoice's sum of up to 12 amounts of up to 100,000.00: its float64
	// error is below 12 × 2^-53 × 1.2e6 = 1.6e-9, less than half a unit of
	// its 15th digit (5e-9). A sum whose terms cancel can carry more noise
	// than that: reconciliation allows for it (docs/vendors.md).
	for range 20000 {
		n := 2 + rng.IntN(11)
		sum, exact := 0.0, new(big.Rat)
		for range n {
			cents := rng.Int64N(10_000_001)
			sum += float64(cents) / 100
			exact.Add(exact, big.NewRat(cents, 100))
		}
		text := strconv.FormatFloat(sum, 'g', -1, 64)
		got, err := ParseFloat64([]byte(text))
		if err != nil || ratOf(got).Cmp(exact) != 0 {
			t.Fatalf("a float64 sum printed %s: got %v, %v; want %s", text, got, err, exact.FloatString(2))
		}
	}
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func ratOf(d Decimal) *big.Rat {
	r, _ := new(big.Rat).SetString(d.String())
	return r
}

// Reader.Float reads a float64 field at 15 digits, null as NULL, and
// refuses what is not a number with a positioned error.
func TestReaderFloat(t *testing.T) {
	b, err := extract.NewBody(extract.Call{Provider: "p", Endpoint: "e", Capture: "p/e.json"},
		strings.NewReader(`{"a": 988.5700000000002, "b": null, "c": "1.5"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := NewReader(b, nil)
	got := map[string]NullDecimal{}
	err = r.Document(func(name []byte) error {
		n, err := r.Float()
		got[string(name)] = n
		return err
	})
	if a := got["a"]; !a.Valid || a.String() != "988.57" {
		t.Errorf("a = %v", a)
	}
	if b := got["b"]; b.Valid {
		t.Errorf("null = %v", b)
	}
	if err == nil || !strings.Contains(err.Error(), `/c: number expected, found the string "1.5"`) {
		t.Errorf("a string: %v", err)
	}
}

// Whatever ParseFloat64 accepts is a JSON number, and its result is the
// float64's value at 15 significant digits: no more digits, and the same
// float64 to 15 digits (below 1e-9 the 24th decimal cuts digits first).
func FuzzParseFloat64(f *testing.F) {
	for _, s := range []string{"988.5700000000002", "-39.999999999999995", "0", "1e-30", "99999999999999.99", "1234567890123.125", "0.03288155235350132", "1e400", "-0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseFloat64([]byte(s))
		if err != nil {
			return
		}
		if _, err := ParseDecimal([]byte(s), true); err != nil && err != errPrecision {
			t.Fatalf("%q accepted, but it is not a number: %v", s, err)
		}
		in, _ := strconv.ParseFloat(s, 64)
		if math.Abs(in) < 1e-9 {
			return
		}
		digits := strings.TrimLeft(strings.ReplaceAll(strings.TrimPrefix(d.String(), "-"), ".", ""), "0")
		if len(digits) > Float64Digits {
			t.Fatalf("%q reads as %s: more than %d significant digits", s, d, Float64Digits)
		}
		out, _ := strconv.ParseFloat(d.String(), 64)
		if a, b := strconv.FormatFloat(in, 'e', Float64Digits-1, 64), strconv.FormatFloat(out, 'e', Float64Digits-1, 64); a != b {
			t.Fatalf("%q reads as %s: %s at 15 digits, not %s", s, d, b, a)
		}
	})
}
