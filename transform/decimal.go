package transform

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
)

// Money and quantities are stored as DECIMAL(38, 24): every value is a signed
// 128-bit count of 10^-24 units. Vendors print float64 values in shortest form
// (at most 17 significant digits, plain notation down to 1e-6 or 1e-7), so 24
// fractional digits keep every digit they send down to 1e-8; 14 integer digits
// (below 100 trillion) are far beyond any invoice. One scale for every column
// keeps sums and comparisons trivial and matches what Athena and DuckDB read.
const (
	Precision = 38
	Scale     = 24
)

// Decimal is an exact fixed-point number with Scale fractional digits, held as
// a two's-complement int128. The zero value is 0. We keep our own type instead
// of a big-number library because the hot path parses millions of JSON numbers
// and sums them: this one never allocates and maps 1:1 to Parquet's 16-byte
// DECIMAL encoding.
type Decimal struct {
	hi int64
	lo uint64
}

// NullDecimal is a Decimal that may be NULL (Valid false).
type NullDecimal struct {
	Decimal
	Valid bool
}

// Some wraps d as a non-NULL NullDecimal.
func Some(d Decimal) NullDecimal { return NullDecimal{d, true} }

var (
	errSyntax    = errors.New("is not a number")
	errRange     = errors.New("is out of range for DECIMAL(38,24): its magnitude must stay below 1e14")
	errPrecision = errors.New("has more than 24 decimal places")
)

// limit is 10^38, the first magnitude DECIMAL(38,s) cannot hold; limit10 is
// 10^37, above which one more digit would not fit.
var (
	limit   = u128{hi: 0x4b3b4ca85a86c47a, lo: 0x098a224000000000}
	limit10 = u128{hi: 0x0785ee10d5da46d9, lo: 0x00f436a000000000}
)

// ParseDecimal parses JSON number text exactly. When round is false a value
// with more than Scale fractional digits is an error; when true it is rounded
// half to even at the Scale-th decimal (used only for quantities, never for
// money).
func ParseDecimal(b []byte, round bool) (Decimal, error) {
	d, _, err := parseDecimal(b, round)
	return d, err
}

// parseDecimal is ParseDecimal that also tells whether the value was
// rounded (it had nonzero digits beyond the Scale-th decimal), so that
// callers can count and report what rounding changed.
func parseDecimal(b []byte, round bool) (d Decimal, rounded bool, err error) {
	var (
		i      int
		neg    bool
		mant   u128
		digits int // significant digits in mant
		zeros  int // zeros after the last nonzero digit, not yet in mant
		exp    int // mant * 10^exp is the value
	)
	if len(b) > 0 && b[0] == '-' {
		neg = true
		i++
	}
	// digit adds one digit; a fractional digit also lowers the exponent.
	// Zeros are held back so that "1.50000" does not cost precision.
	digit := func(c byte) bool {
		if c == '0' {
			if digits > 0 {
				zeros++
			}
			return true
		}
		if digits+zeros >= Precision {
			return false
		}
		for ; zeros > 0; zeros-- {
			mant = mant.mul10()
			digits++
		}
		mant = mant.mul10().add64(uint64(c - '0'))
		digits++
		return true
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if !digit(b[i]) {
			return Decimal{}, false, errRange
		}
		i++
	}
	if n := i - start; n == 0 || (n > 1 && b[start] == '0') {
		return Decimal{}, false, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if !digit(b[i]) {
				return Decimal{}, false, errPrecision
			}
			exp--
			i++
		}
		if i == fs {
			return Decimal{}, false, errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		es, e := i, 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if e < 1000000 {
				e = e*10 + int(b[i]-'0')
			}
			i++
		}
		if i == es {
			return Decimal{}, false, errSyntax
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(b) {
		return Decimal{}, false, errSyntax
	}
	if mant.isZero() {
		return Decimal{}, false, nil
	}
	exp += zeros // trailing zeros only move the exponent
	// The value is mant * 10^exp; DECIMAL(38,24) counts 10^-24 units.
	shift := exp + Scale
	switch {
	case shift > 0:
		for ; shift > 0; shift-- {
			if !mant.less(limit10) {
				return Decimal{}, false, errRange
			}
			mant = mant.mul10()
		}
	case shift < 0:
		if !round {
			return Decimal{}, false, errPrecision
		}
		if shift < -Precision {
			return Decimal{}, true, nil // far below 10^-24: rounds to zero
		}
		rounded = true // mant has nonzero digits (trailing zeros are in exp)
		var rem uint64
		sticky := false
		for ; shift < 0; shift++ {
			sticky = sticky || rem != 0
			mant, rem = mant.div10()
		}
		// Round half to even on the last digit removed.
		if rem > 5 || (rem == 5 && (sticky || mant.lo&1 == 1)) {
			mant = mant.add64(1)
		}
	}
	if !mant.less(limit) {
		return Decimal{}, false, errRange
	}
	d = Decimal{hi: int64(mant.hi), lo: mant.lo}
	if neg {
		d = d.Neg()
	}
	return d, rounded, nil
}

// Float64Digits is how many significant digits a float64 holds: every
// decimal of at most 15 significant digits comes back unchanged from a trip
// through a float64 (C's DBL_DIG).
const Float64Digits = 15

// ParseFloat64 reads JSON number text that a vendor serialized from a
// float64 (a field its API or SDK types as one), at the 15 significant
// digits a float64 holds: what the vendor meant by it. CockroachDB Cloud
// keeps amounts as decimals and prints them as float64, so a sum may come
// out as 988.5700000000002: that reads as 988.57.
//
// The text becomes the float64 it stands for, and that value (not its
// text) is rounded to 15 significant digits, half to even on its exact
// binary value (strconv's correctly rounded formatting). Rounding the value
// rather than the text makes the result a function of the float64 alone,
// however many digits the vendor printed (the shortest form or all 17),
// and it is exactly the decimal the float64 was made from whenever that
// decimal had at most 15 significant digits, which is the guarantee
// Float64Digits names; rounding the shortest text again would round twice
// and could disagree on the rare text whose 16th digit is a 5. Digits
// beyond the 24th decimal are rounded half to even, as quantities' are
// (a float64 of 1e-20 carries digits to the 34th). The text must be a
// number ParseDecimal accepts when rounding, in magnitude below 1e14.
func ParseFloat64(b []byte) (Decimal, error) {
	// Syntax and range as for any number; all the digits of a float64's
	// exact value may be more than DECIMAL(38,24) holds, which is no error
	// here.
	if _, _, err := parseDecimal(b, true); err != nil && err != errPrecision {
		return Decimal{}, err
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return Decimal{}, errRange // beyond float64: cannot be one
	}
	if f == 0 {
		return Decimal{}, nil
	}
	var buf [32]byte
	d, _, err := parseDecimal(strconv.AppendFloat(buf[:0], f, 'e', Float64Digits-1, 64), true)
	return d, err
}

// MustDecimal parses s or panics; for constants and tests.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal([]byte(s), false)
	if err != nil {
		panic(fmt.Sprintf("MustDecimal(%q): %v", s, err))
	}
	return d
}

// Neg returns -d.
func (d Decimal) Neg() Decimal {
	lo, borrow := bits.Sub64(0, d.lo, 0)
	hi, _ := bits.Sub64(0, uint64(d.hi), borrow)
	return Decimal{hi: int64(hi), lo: lo}
}

// Sign is -1, 0 or +1.
func (d Decimal) Sign() int {
	switch {
	case d.hi < 0:
		return -1
	case d.hi == 0 && d.lo == 0:
		return 0
	}
	return 1
}

// IsZero reports d == 0.
func (d Decimal) IsZero() bool { return d.hi == 0 && d.lo == 0 }

// Abs returns |d|.
func (d Decimal) Abs() Decimal {
	if d.hi < 0 {
		return d.Neg()
	}
	return d
}

// Cmp compares d and e: -1, 0 or +1.
func (d Decimal) Cmp(e Decimal) int {
	switch {
	case d.hi < e.hi:
		return -1
	case d.hi > e.hi:
		return 1
	case d.lo < e.lo:
		return -1
	case d.lo > e.lo:
		return 1
	}
	return 0
}

// Add returns d+e and false when the result leaves DECIMAL(38,24).
func (d Decimal) Add(e Decimal) (Decimal, bool) {
	lo, carry := bits.Add64(d.lo, e.lo, 0)
	hi, _ := bits.Add64(uint64(d.hi), uint64(e.hi), carry)
	r := Decimal{hi: int64(hi), lo: lo}
	// Signed overflow of the 128-bit add, or beyond 38 digits.
	if (d.hi >= 0) == (e.hi >= 0) && (r.hi >= 0) != (d.hi >= 0) {
		return Decimal{}, false
	}
	return r, r.Abs().u().less(limit)
}

// Sub returns d-e and false when the result leaves DECIMAL(38,24).
func (d Decimal) Sub(e Decimal) (Decimal, bool) { return d.Add(e.Neg()) }

// MulInt returns d*n and false on overflow; n is small (a line count).
func (d Decimal) MulInt(n int64) (Decimal, bool) {
	neg := (d.Sign() < 0) != (n < 0)
	if n < 0 {
		n = -n
	}
	a := d.Abs().u()
	hiLo, lo := bits.Mul64(a.lo, uint64(n))
	hiHi, hiLow := bits.Mul64(a.hi, uint64(n))
	hi, carry := bits.Add64(hiLow, hiLo, 0)
	if hiHi != 0 || carry != 0 {
		return Decimal{}, false
	}
	m := u128{hi, lo}
	if !m.less(limit) {
		return Decimal{}, false
	}
	r := Decimal{hi: int64(m.hi), lo: m.lo}
	if neg {
		r = r.Neg()
	}
	return r, true
}

// Mul is d × e rounded at the 24th decimal (big.Rat.FloatString); false when the
// product leaves DECIMAL(38,24). It goes through math/big: it computes a
// few bounds per invoice, never a cost nor anything on the hot path.
func (d Decimal) Mul(e Decimal) (Decimal, bool) {
	x, _ := new(big.Rat).SetString(d.String())
	y, _ := new(big.Rat).SetString(e.String())
	p, err := ParseDecimal([]byte(x.Mul(x, y).FloatString(Scale)), true)
	return p, err == nil
}

// DivInt is d / n rounded at the 24th decimal (math/big, as Mul).
func (d Decimal) DivInt(n int64) (Decimal, bool) {
	x, _ := new(big.Rat).SetString(d.String())
	q, err := ParseDecimal([]byte(x.Quo(x, big.NewRat(n, 1)).FloatString(Scale)), true)
	return q, err == nil
}

// String formats d without trailing fractional zeros: "22.77", "-0.0013", "0".
func (d Decimal) String() string { return string(d.Append(nil)) }

// Append appends the String form of d to b.
func (d Decimal) Append(b []byte) []byte {
	if d.Sign() < 0 {
		b = append(b, '-')
	}
	var buf [48]byte
	i := len(buf)
	m := d.Abs().u()
	for n := 0; n <= Scale || !m.isZero(); n++ {
		var r uint64
		m, r = m.div10()
		i--
		buf[i] = byte('0' + r)
		if n == Scale-1 {
			i--
			buf[i] = '.'
		}
	}
	s := buf[i:]
	// Trim trailing zeros of the fraction, then a bare point.
	end := len(s)
	for end > 0 && s[end-1] == '0' {
		end--
	}
	if end > 0 && s[end-1] == '.' {
		end--
	}
	return append(b, s[:end]...)
}

// MarshalText makes decimals print as exact JSON-friendly strings.
func (d Decimal) MarshalText() ([]byte, error) { return d.Append(nil), nil }

// UnmarshalText parses the String form (used for manifests).
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := ParseDecimal(b, false)
	if err != nil {
		return fmt.Errorf("%q %w", b, err)
	}
	*d = v
	return nil
}

// Bytes16 is the big-endian two's-complement form Parquet stores for
// DECIMAL(38,s) as FIXED_LEN_BYTE_ARRAY(16).
func (d Decimal) Bytes16() (b [16]byte) {
	h, l := uint64(d.hi), d.lo
	for i := 7; i >= 0; i-- {
		b[i] = byte(h)
		b[8+i] = byte(l)
		h >>= 8
		l >>= 8
	}
	return b
}

// DecimalFromBytes16 inverts Bytes16.
func DecimalFromBytes16(b [16]byte) Decimal {
	var h, l uint64
	for i := 0; i < 8; i++ {
		h = h<<8 | uint64(b[i])
		l = l<<8 | uint64(b[8+i])
	}
	return Decimal{hi: int64(h), lo: l}
}

// HiLo exposes the int128 halves (Arrow's decimal128.Num takes them).
func (d Decimal) HiLo() (int64, uint64) { return d.hi, d.lo }

// GoString keeps %#v readable in test failures.
func (d Decimal) GoString() string { return "transform.MustDecimal(" + strconv.Quote(d.String()) + ")" }

// u128 is an unsigned 128-bit magnitude.
type u128 struct{ hi, lo uint64 }

func (d Decimal) u() u128 { return u128{uint64(d.hi), d.lo} }

func (a u128) isZero() bool { return a.hi == 0 && a.lo == 0 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a u128) mul10() u128 {
	hiLo, lo := bits.Mul64(a.lo, 10)
	hi := a.hi*10 + hiLo
	return u128{hi, lo}
}

func (a u128) add64(v uint64) u128 {
	lo, c := bits.Add64(a.lo, v, 0)
	return u128{a.hi + c, lo}
}

func (a u128) div10() (u128, uint64) {
	qhi, r := a.hi/10, a.hi%10
	qlo, r2 := bits.Div64(r, a.lo, 10)
	return u128{qhi, qlo}, r2
}
