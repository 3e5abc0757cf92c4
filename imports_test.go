package invoiceexport_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The import rules of docs/architecture.md, on what go list says each
// package imports (directly) and depends on (transitively):
//   - no stage depends on a later one: extract < transform < load;
//   - load imports no extract package (what they share is internal/billing);
//   - internal/billing depends on no package of ours;
//   - no program links the test or documentation packages.
func TestImportRules(t *testing.T) {
	const mod = "github.com/invoice-export/invoice-export"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	in := func(pkg, dir string) bool { return pkg == mod+"/"+dir || strings.HasPrefix(pkg, mod+"/"+dir+"/") }
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		pkg, imports, deps := parts[0], strings.Fields(parts[1]), strings.Fields(parts[2])
		refuse := func(list []string, what string, bad func(string) bool) {
			for _, d := range list {
				if strings.HasPrefix(d, mod) && bad(d) {
					t.Errorf("%s %s %s", pkg, what, d)
				}
			}
		}
		laterThanExtract := func(d string) bool {
			return in(d, "transform") || in(d, "load") || in(d, "internal/registry") || d == mod || in(d, "cmd")
		}
		switch {
		case in(pkg, "extract"):
			refuse(deps, "(extract) depends on", laterThanExtract)
		case in(pkg, "transform"):
			refuse(deps, "(transform) depends on", func(d string) bool { return in(d, "load") || d == mod || in(d, "cmd") })
		case in(pkg, "load"):
			refuse(imports, "(load) imports", func(d string) bool { return in(d, "extract") || in(d, "internal/registry") })
			refuse(deps, "(load) depends on", func(d string) bool {
				return d == mod || in(d, "cmd") || in(d, "internal/registry") || strings.Count(strings.TrimPrefix(d, mod+"/"), "/") > 0 && (in(d, "extract") || in(d, "transform"))
			})
		case pkg == mod+"/internal/billing":
			refuse(deps, "(the shared vocabulary) depends on", func(string) bool { return true })
		case pkg == mod+"/internal/registry":
			refuse(deps, "(the registry) depends on", func(d string) bool { return in(d, "load") || d == mod || in(d, "cmd") })
		}
		if pkg == mod || in(pkg, "extract") || in(pkg, "transform") || in(pkg, "load") || in(pkg, "cmd") {
			refuse(deps, "links", func(d string) bool { return in(d, "internal/testkit") || in(d, "internal/docgen") })
		}
		checked++
	}
	if checked < 15 {
		t.Fatalf("go list named %d packages", checked)
	}
}
