package transform

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	cases := []struct {
		in, want string
		round    bool
		err      string
	}{
		{in: "0", want: "0"},
		{in: "-0", want: "0"},
		{in: "22.77", want: "22.77"},
		{in: "1.1", want: "1.1"},
		{in: "110.25601800903678", want: "110.25601800903678"},
		{in: "0.03288155235350132", want: "0.03288155235350132"},
		{in: "0.00000463", want: "0.00000463"},
		{in: "-12.5", want: "-12.5"},
		{in: "1.50000000000000000000000000000000", want: "1.5"},
		{in: "100", want: "100"},
		{in: "1e2", want: "100"},
		{in: "1.2345E+3", want: "1234.5"},
		{in: "4.63e-06", want: "0.00000463"},
		{in: "1.2345678901234567e-07", want: "0.00000012345678901234567"},
		{in: "99999999999999.999999999999999999999999", want: "99999999999999.999999999999999999999999"},
		{in: "-99999999999999.999999999999999999999999", want: "-99999999999999.999999999999999999999999"},
		{in: "100000000000000", err: "out of range"},
		{in: "1e300", err: "out of range"},
		{in: "1e-25", err: "more than 24 decimal places"},
		{in: "3.0999999999999998e-09", err: "more than 24 decimal places"},
		{in: "3.0999999999999998e-09", round: true, want: "0.0000000031"},
		{in: "3.0999999999999994e-09", round: true, want: "0.000000003099999999999999"},
		{in: "0.0000000000000000000000005", round: true, want: "0"},
		{in: "0.0000000000000000000000015", round: true, want: "0.000000000000000000000002"},
		{in: "0.00000000000000000000000150001", round: true, want: "0.000000000000000000000002"},
		{in: "1e-400", round: true, want: "0"},
		{in: "NaN", err: "not a number"},
		{in: "Infinity", err: "not a number"},
		{in: "-Inf", err: "not a number"},
		{in: "", err: "not a number"},
		{in: "-", err: "not a number"},
		{in: "01", err: "not a number"},
		{in: "1.", err: "not a number"},
		{in: ".5", err: "not a number"},
		{in: "1e", err: "not a number"},
		{in: "+1", err: "not a number"},
		{in: "1_000", err: "not a number"},
		{in: `"1.5"`, err: "not a number"},
	}
	for _, c := range cases {
		got, err := ParseDecimal([]byte(c.in), c.round)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseDecimal(%q) = %v, %v; want error containing %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("ParseDecimal(%q) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
}

func TestDecimalArithmetic(t *testing.T) {
	a, b := MustDecimal("0.1"), MustDecimal("0.2")
	if s, ok := a.Add(b); !ok || s.String() != "0.3" {
		t.Fatalf("0.1+0.2 = %v %v", s, ok)
	}
	if d, _ := a.Sub(b); d.String() != "-0.1" || d.Sign() != -1 || d.Abs().String() != "0.1" {
		t.Fatalf("0.1-0.2 = %v", d)
	}
	if m, ok := MustDecimal("0.005").MulInt(7); !ok || m.String() != "0.035" {
		t.Fatalf("0.005*7 = %v", m)
	}
	if m, ok := MustDecimal("-0.005").MulInt(3); !ok || m.String() != "-0.015" {
		t.Fatalf("-0.005*3 = %v", m)
	}
	big := MustDecimal("99999999999999")
	if _, ok := big.Add(big); ok {
		t.Fatal("overflow not reported")
	}
	if _, ok := big.MulInt(10); ok {
		t.Fatal("MulInt overflow not reported")
	}
	if a.Cmp(b) != -1 || b.Cmp(a) != 1 || a.Cmp(a) != 0 || MustDecimal("-1").Cmp(a) != -1 {
		t.Fatal("Cmp")
	}
	// Summing the daily totals of the docs' example exactly (a float64 sum would not).
	var sum Decimal
	for _, s := range []string{"3.33331", "3.33331", "16.58168", "16.51346", "0.00131526", "0.00128855"} {
		sum, _ = sum.Add(MustDecimal(s))
	}
	if sum.String() != "39.76436381" {
		t.Fatalf("sum = %s", sum)
	}
}

func TestDecimalBytes16RoundTrip(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "22.77", "-0.00131526", "99999999999999.999999999999999999999999", "-99999999999999.999999999999999999999999"} {
		d := MustDecimal(s)
		b := d.Bytes16()
		if got := DecimalFromBytes16(b); got != d {
			t.Errorf("%s: round trip gave %s", s, got)
		}
		// The bytes are the big-endian two's complement of value*10^24.
		want := new(big.Int)
		r, _ := new(big.Rat).SetString(s)
		want.Quo(new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(Scale), nil)), r.Denom())
		got := new(big.Int).SetBytes(b[:])
		if b[0]&0x80 != 0 {
			got.Sub(got, new(big.Int).Lsh(big.NewInt(1), 128))
		}
		if got.Cmp(want) != 0 {
			t.Errorf("%s: bytes %x = %s, want %s", s, b, got, want)
		}
	}
}

// Rounding at the 24th decimal is reported (and counted by the decoder, for
// the run's notes); exact values are not.
func TestParseDecimalReportsRounding(t *testing.T) {
	for _, c := range []struct {
		in      string
		rounded bool
	}{
		{"0.03288155235350132", false},
		{"1.500000000000000000000000000000", false}, // trailing zeros lose nothing
		{"1e-24", false},
		{"1.2345678901234567e-07", false},
		{"3.0999999999999998e-09", true},
		{"0.0000000000000000000000005", true}, // rounds to 0
		{"1e-400", true},
		{"0e-400", false},
	} {
		_, rounded, err := parseDecimal([]byte(c.in), true)
		if err != nil || rounded != c.rounded {
			t.Errorf("parseDecimal(%q) rounded = %v, %v; want %v", c.in, rounded, err, c.rounded)
		}
	}
}

// FuzzParseDecimal checks the parser against math/big on arbitrary input: it
// never panics, and whatever it accepts equals the exact rational value.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "22.77", "-0.03288155235350132", "1e-7", "4.63e-06", "1e14", "NaN", "1.", "00", "9.999999999999999999999999e13", "0e10000000000000000000"} {
		f.Add(s, false)
	}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(Scale), nil))
	f.Fuzz(func(t *testing.T, s string, round bool) {
		d, rounded, err := parseDecimal([]byte(s), round)
		if err != nil {
			return
		}
		if !json.Valid([]byte(s)) || s[0] != '-' && (s[0] < '0' || s[0] > '9') {
			t.Fatalf("accepted %q, which is not a JSON number", s)
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok { // exponent too large for big.Rat: only zero can get here
			if !d.IsZero() {
				t.Fatalf("%q parsed as %s", s, d)
			}
			return
		}
		units := new(big.Rat).Mul(r, scale)
		back, _ := new(big.Rat).SetString(d.String())
		backUnits := new(big.Rat).Mul(back, scale)
		if !round && units.Cmp(backUnits) != 0 {
			t.Fatalf("%q parsed as %s", s, d)
		}
		if round {
			diff := new(big.Rat).Sub(units, backUnits)
			if diff.Abs(diff).Cmp(big.NewRat(1, 2)) > 0 {
				t.Fatalf("%q rounded to %s: off by more than half a unit", s, d)
			}
		}
		// Rounding is reported exactly when digits beyond the 24th were dropped.
		if rounded != (round && !units.IsInt()) {
			t.Fatalf("%q: rounded = %v, but its value has %s 24 decimals", s, rounded, map[bool]string{true: "more than", false: "at most"}[!units.IsInt()])
		}
		if again, err := ParseDecimal([]byte(d.String()), false); err != nil || again != d {
			t.Fatalf("%q: String %s does not parse back (%v)", s, d, err)
		}
	})
}
