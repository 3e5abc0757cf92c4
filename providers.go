package invoiceexport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/transform/cockroachdb"
	"github.com/invoice-export/invoice-export/transform/mongodbatlas"
	"github.com/invoice-export/invoice-export/transform/spectrocloud"
	"github.com/invoice-export/invoice-export/transform/warpstream"
)

// The providers this program exports, in the order runs report them.
// Adding one is one line here (docs/architecture.md).
func init() {
	registry.Register(
		warpstream.Provider,
		cockroachdb.Provider,
		spectrocloud.Provider,
		mongodbatlas.Provider,
	)
}

// Configs are the providers' settings, by slug.
type Configs map[string]extract.Config

// ReadConfigs reads every provider's settings through getenv (os.Getenv)
// and checks them: the commands call it once at start, so a mistake is
// one line naming each variable at fault, before any request.
func ReadConfigs(getenv func(string) string) (Configs, error) {
	cfgs := Configs{}
	var problems []string
	for _, p := range registry.All() {
		c, err := p.ReadConfig(getenv)
		if err != nil {
			problems = append(problems, err.Error())
		}
		cfgs[p.Slug] = c
	}
	if len(problems) > 0 {
		return cfgs, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return cfgs, nil
}

// ParseProviders reads a comma-separated provider list; empty means all.
func ParseProviders(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return registry.Slugs(), nil
	}
	var out []string
	for _, p := range strings.Split(list, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if _, err := registry.Get(p); err != nil {
			return nil, err
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

// HasKey is Usable's test for live runs: every required setting is set.
func HasKey(cfgs Configs) func(string) (bool, string) {
	return func(p string) (bool, string) {
		missing := cfgs[p].Missing()
		return len(missing) == 0, "no API key (" + strings.Join(missing, " and ") + " is not set)"
	}
}

// HasCaptures is Usable's test for replays.
func HasCaptures(dir extract.Dir) func(string) (bool, string) {
	return func(p string) (bool, string) {
		return dir.Has(p), fmt.Sprintf("no captures in %s/%s", dir, p)
	}
}
