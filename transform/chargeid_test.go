package transform

import (
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
)

// A repeated natural key gets #2, #3, ...; the same keys in the same order
// give the same ids.
func TestChargeIDs(t *testing.T) {
	ids := func() []string {
		c := ChargeIDs{}
		var out []string
		for _, k := range []string{"a/x", "a/y", "a/x", "a/x", "b/x"} {
			out = append(out, c.Next(k))
		}
		return out
	}
	want := []string{"a/x", "a/y", "a/x#2", "a/x#3", "b/x"}
	if got := ids(); !slices.Equal(got, want) || !slices.Equal(ids(), got) {
		t.Errorf("ids = %q, want %q", got, want)
	}
}

// No provider can write a line without a ChargeID: the tally every line
// passes through refuses it, whatever the provider does.
func TestLineWithoutChargeIDIsRefused(t *testing.T) {
	line := Line{Provider: "p", ChargeCategory: Usage, ChargeDescription: "compute", BillingCurrency: "USD"}
	for name, f := range map[string]Func{
		"a line": func(in Input, t *Tally) (*Result, error) {
			l := line
			return &Result{}, t.Write(&l)
		},
		"a rounding adjustment": func(in Input, t *Tally) (*Result, error) {
			l := line
			l.ChargeID = "p/1"
			if err := t.Write(&l); err != nil {
				return nil, err
			}
			inv := Invoice{Currency: "USD", VendorTotal: MustDecimal("0.001")}
			return &Result{}, t.Reconcile(&inv, HalfCent, "", func(gap Decimal) Line { return line })
		},
	} {
		var out discard
		_, err := Run(Input{Job: extract.Job{Provider: "p"}}, &out, f)
		if err == nil || !strings.Contains(err.Error(), "has no ChargeID") || out.n != map[string]int{"a line": 0, "a rounding adjustment": 1}[name] {
			t.Errorf("%s without a ChargeID: %v, %d lines out", name, err, out.n)
		}
	}
}

type discard struct{ n int }

func (d *discard) Write(*Line) error { d.n++; return nil }
