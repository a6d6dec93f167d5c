// Package chart validates Helm chart archives with Helm's own loader and
// linter before Meridian stores them.
package chart

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"
)

// MaxArchive is the largest chart archive accepted.
const MaxArchive = 10 << 20

// Load reads a chart archive (.tgz) and lints it with the given values
// (YAML); it fails on anything Helm's linter calls an error.
func Load(archive []byte, values string) (*chart.Chart, error) {
	if len(archive) == 0 {
		return nil, fmt.Errorf("the chart archive is empty")
	}
	if len(archive) > MaxArchive {
		return nil, fmt.Errorf("the chart archive is larger than %d bytes", MaxArchive)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("not a Helm chart archive: %v", err)
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("invalid chart: %v", err)
	}
	vals, err := Values(values)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "meridian-chart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := chartutil.Expand(dir, bytes.NewReader(archive)); err != nil {
		return nil, fmt.Errorf("not a Helm chart archive: %v", err)
	}
	linter := lint.All(filepath.Join(dir, ch.Name()), vals, "default", false)
	var problems []string
	for _, m := range linter.Messages {
		if m.Severity >= support.ErrorSev {
			problems = append(problems, m.Error())
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the chart does not lint: %s", strings.Join(problems, "; "))
	}
	return ch, nil
}

// Values parses Helm values (YAML).
func Values(values string) (map[string]any, error) {
	vals := map[string]any{}
	if strings.TrimSpace(values) == "" {
		return vals, nil
	}
	if err := yaml.Unmarshal([]byte(values), &vals); err != nil {
		return nil, fmt.Errorf("values are not YAML: %v", err)
	}
	return vals, nil
}
