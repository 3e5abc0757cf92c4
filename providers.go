package invoiceexport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/invoice-export/invoice-export/extract"
)

// ParseProviders reads a comma-separated provider list; empty means all.
func ParseProviders(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return slices.Clone(extract.Providers), nil
	}
	var out []string
	for _, p := range strings.Split(list, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if !slices.Contains(extract.Providers, p) {
			return nil, fmt.Errorf("unknown provider %q (known: %s)", p, strings.Join(extract.Providers, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Usable keeps the providers a run can serve and says why it skips the
// others: live runs need an API key, replays need captures.
func Usable(requested []string, can func(string) (bool, string)) (run []string, skipped []string) {
	for _, p := range requested {
		if ok, why := can(p); ok {
			run = append(run, p)
		} else {
			skipped = append(skipped, fmt.Sprintf("%s: skipped, %s", p, why))
		}
	}
	return run, skipped
}

// HasKey is Usable's test for live runs.
func HasKey(cfg extract.Config) func(string) (bool, string) {
	return func(p string) (bool, string) {
		return cfg.Key(p).IsSet(), "no API key (" + extract.KeyVar(p) + " is not set)"
	}
}

// HasCaptures is Usable's test for replays.
func HasCaptures(dir extract.Dir) func(string) (bool, string) {
	return func(p string) (bool, string) {
		return dir.Has(p), fmt.Sprintf("no captures in %s/%s", dir, p)
	}
}
