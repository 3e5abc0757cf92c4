package gen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Each shape lays its lines out as it says: clusters × products × days,
// and quantities printed with 17 significant digits in digits17.
func TestShapes(t *testing.T) {
	type breakdowns struct {
		Tenants []struct {
			Workspaces []struct {
				Clusters []struct {
					Charges []struct {
						Product    string
						Breakdowns []struct {
							Quantity json.Number
						}
					}
				}
			}
		}
	}
	for _, c := range []struct {
		shape              string
		lines              int
		clusters, products int // products: per cluster (0: mixed)
	}{
		{ShapeWide, 12_400, 100, 4},
		{ShapeProducts, 12_400, 10, 40},
		{ShapeDigits17, 12_400, 0, 0},
		{ShapeDefault, 12_400, 0, 0},
	} {
		t.Run(c.shape, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Write(dir, Config{Seed: 1, Lines: c.lines, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Shape: c.shape}); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "warpstream", "invoice_breakdowns", "2026-10.json"))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.UseNumber()
			var b breakdowns
			if err := dec.Decode(&b); err != nil {
				t.Fatal(err)
			}
			var clusters, lines, digits17 int
			for _, tn := range b.Tenants {
				for _, w := range tn.Workspaces {
					for _, cl := range w.Clusters {
						clusters++
						if c.products > 0 && len(cl.Charges) != c.products {
							t.Fatalf("a cluster with %d products, want %d", len(cl.Charges), c.products)
						}
						for _, ch := range cl.Charges {
							for _, d := range ch.Breakdowns {
								lines++
								if significant(string(d.Quantity)) == 17 {
									digits17++
								}
							}
						}
					}
				}
			}
			if lines != c.lines || c.clusters > 0 && clusters != c.clusters {
				t.Errorf("%d lines in %d clusters, want %d in %d", lines, clusters, c.lines, c.clusters)
			}
			if all := digits17 == lines; all != (c.shape == ShapeDigits17) {
				t.Errorf("%d of %d quantities with 17 significant digits", digits17, lines)
			}
		})
	}
}

var leadingZeros = regexp.MustCompile(`^[0.]*`)

// significant counts a plain decimal's significant digits, trailing zeros
// included ("1440.0000000000000": 17; "0.0328": 3).
func significant(s string) int {
	s = strings.TrimPrefix(s, "-")
	if strings.Trim(s, "0.") == "" {
		return len(strings.ReplaceAll(s, ".", "")) // zero: every digit printed
	}
	return len(strings.ReplaceAll(leadingZeros.ReplaceAllString(s, ""), ".", ""))
}
