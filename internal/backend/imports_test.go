// Package backend_test holds the rule every backend under internal/backend
// keeps: backends know no tables. A backend reports what it observes to the
// workflow that owns the rows (see cluster.Observer); it never imports ent.
package backend_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const entPkg = "github.com/meridianplane/meridian/ent"

func TestBackendsImportNoEnt(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{join .Deps \" \"}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, "\t")
		listed = append(listed, pkg)
		var bad []string
		for _, d := range strings.Fields(deps) {
			if d == entPkg || strings.HasPrefix(d, entPkg+"/") {
				bad = append(bad, d)
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s imports ent (%s): a backend reports to its workflow's Observer instead of writing rows", pkg, strings.Join(bad, ", "))
		}
	}
	if !slices.Contains(listed, "github.com/meridianplane/meridian/internal/backend/cluster") {
		t.Fatalf("go list did not list the cluster backend; got %v", listed)
	}
}
