// Package appspec is the workload specification of an application version:
// every field of OTE-Stack's "Create Application", validated, and turned into
// Kubernetes objects by the cluster backend.
package appspec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"
)

// FieldError is a validation error about one input field. (This package is
// a leaf the ent schema imports, so it cannot use internal/apierr; apierr
// classifies any error with InputField as BAD_USER_INPUT.)
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// InputField names the field.
func (e *FieldError) InputField() string { return e.Field }

func badInput(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Deploy types.
const (
	Deployment = "deployment"
	DaemonSet  = "daemonset"
)

// Port is an exposed container port, and optionally a host port.
type Port struct {
	Port     int    `json:"port"`
	HostPort int    `json:"hostPort,omitempty"`
	Protocol string `json:"protocol,omitempty"` // TCP (default), UDP, SCTP
}

// Volume mounts a host path into the container.
type Volume struct {
	Path     string `json:"path"`
	HostPath string `json:"hostPath"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// Env is one environment variable.
type Env struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Workload is a version's workload. CPU is in percent of a core (100 = one
// core), memory in MiB, as OTE-Stack has them.
type Workload struct {
	DeployType           string   `json:"deployType"`
	Image                string   `json:"image"`
	Ports                []Port   `json:"ports,omitempty"`
	Command              string   `json:"command,omitempty"`
	Volumes              []Volume `json:"volumes,omitempty"`
	Env                  []Env    `json:"env,omitempty"`
	Replicas             int      `json:"replicas,omitempty"`
	MinReplicas          int      `json:"minReplicas,omitempty"`
	MaxReplicas          int      `json:"maxReplicas,omitempty"`
	MinCPU               int      `json:"minCPU"`
	MaxCPU               int      `json:"maxCPU"`
	GPU                  int      `json:"gpu,omitempty"`
	IsHPA                bool     `json:"isHPA"`
	TargetCPUUtilization int      `json:"targetCPUUtilization,omitempty"`
	TargetMemUtilization int      `json:"targetMemUtilization,omitempty"`
	MinMemory            int      `json:"minMemory"`
	MaxMemory            int      `json:"maxMemory"`
	MaxUnavailable       int      `json:"maxUnavailable,omitempty"`
	MaxSurge             int      `json:"maxSurge,omitempty"`
	MinReadySeconds      int      `json:"minReadySeconds,omitempty"`
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// Limits.
const (
	MaxReplicasLimit = 1000
	MaxCPUPercent    = 6400   // 64 cores
	MaxMemoryMiB     = 262144 // 256 GiB
)

// Validate checks the spec; errors name the field (prefix + field, for
// example "spec.image").
func (w *Workload) Validate(prefix string) error {
	f := func(name string) string { return prefix + name }
	switch w.DeployType {
	case Deployment, DaemonSet:
	default:
		return badInput(f("deployType"), "must be deployment or daemonset, not %q", w.DeployType)
	}
	if err := ValidateImage(w.Image); err != nil {
		return badInput(f("image"), "%s", err.Error())
	}
	seen := map[int]bool{}
	for i, p := range w.Ports {
		if p.Port < 1 || p.Port > 65535 {
			return badInput(f(fmt.Sprintf("ports[%d].port", i)), "must be 1 to 65535")
		}
		if p.HostPort < 0 || p.HostPort > 65535 {
			return badInput(f(fmt.Sprintf("ports[%d].hostPort", i)), "must be 0 to 65535")
		}
		switch strings.ToUpper(p.Protocol) {
		case "", "TCP", "UDP", "SCTP":
		default:
			return badInput(f(fmt.Sprintf("ports[%d].protocol", i)), "must be TCP, UDP or SCTP")
		}
		if seen[p.Port] {
			return badInput(f(fmt.Sprintf("ports[%d].port", i)), "port %d is listed twice", p.Port)
		}
		seen[p.Port] = true
	}
	for i, v := range w.Volumes {
		if !strings.HasPrefix(v.Path, "/") {
			return badInput(f(fmt.Sprintf("volumes[%d].path", i)), "must be an absolute path")
		}
		if !strings.HasPrefix(v.HostPath, "/") {
			return badInput(f(fmt.Sprintf("volumes[%d].hostPath", i)), "must be an absolute path")
		}
	}
	for i, e := range w.Env {
		if !envNameRE.MatchString(e.Name) {
			return badInput(f(fmt.Sprintf("env[%d].name", i)), "%q is not an environment variable name", e.Name)
		}
	}
	if len(w.Command) > 4096 {
		return badInput(f("command"), "must be at most 4096 characters")
	}
	if err := rng(f("replicas"), w.Replicas, 0, MaxReplicasLimit); err != nil {
		return err
	}
	if err := rng(f("minReplicas"), w.MinReplicas, 0, MaxReplicasLimit); err != nil {
		return err
	}
	if err := rng(f("maxReplicas"), w.MaxReplicas, 0, MaxReplicasLimit); err != nil {
		return err
	}
	if w.MaxReplicas > 0 && w.MinReplicas > w.MaxReplicas {
		return badInput(f("minReplicas"), "must not exceed maxReplicas (%d)", w.MaxReplicas)
	}
	if w.MaxReplicas > 0 && w.Replicas > w.MaxReplicas {
		return badInput(f("replicas"), "must not exceed maxReplicas (%d)", w.MaxReplicas)
	}
	if w.Replicas > 0 && w.Replicas < w.MinReplicas {
		return badInput(f("replicas"), "must be at least minReplicas (%d)", w.MinReplicas)
	}
	if err := rng(f("minCPU"), w.MinCPU, 0, MaxCPUPercent); err != nil {
		return err
	}
	if err := rng(f("maxCPU"), w.MaxCPU, 0, MaxCPUPercent); err != nil {
		return err
	}
	if w.MaxCPU > 0 && w.MinCPU > w.MaxCPU {
		return badInput(f("minCPU"), "must not exceed maxCPU (%d)", w.MaxCPU)
	}
	if err := rng(f("minMemory"), w.MinMemory, 0, MaxMemoryMiB); err != nil {
		return err
	}
	if err := rng(f("maxMemory"), w.MaxMemory, 0, MaxMemoryMiB); err != nil {
		return err
	}
	if w.MaxMemory > 0 && w.MinMemory > w.MaxMemory {
		return badInput(f("minMemory"), "must not exceed maxMemory (%d)", w.MaxMemory)
	}
	if err := rng(f("gpu"), w.GPU, 0, 64); err != nil {
		return err
	}
	if w.IsHPA {
		if w.DeployType != Deployment {
			return badInput(f("isHPA"), "a horizontal pod autoscaler needs deployType deployment")
		}
		if w.MaxReplicas < 1 {
			return badInput(f("maxReplicas"), "must be set (at least 1) when isHPA is on")
		}
		if w.TargetCPUUtilization < 1 && w.TargetMemUtilization < 1 {
			return badInput(f("targetCPUUtilization"), "set a CPU or memory target when isHPA is on")
		}
		if w.TargetCPUUtilization > 0 && w.MinCPU < 1 {
			return badInput(f("minCPU"), "a CPU target needs a CPU request (minCPU)")
		}
		if w.TargetMemUtilization > 0 && w.MinMemory < 1 {
			return badInput(f("minMemory"), "a memory target needs a memory request (minMemory)")
		}
	}
	if err := rng(f("targetCPUUtilization"), w.TargetCPUUtilization, 0, 1000); err != nil {
		return err
	}
	if err := rng(f("targetMemUtilization"), w.TargetMemUtilization, 0, 1000); err != nil {
		return err
	}
	if err := rng(f("maxUnavailable"), w.MaxUnavailable, 0, MaxReplicasLimit); err != nil {
		return err
	}
	if err := rng(f("maxSurge"), w.MaxSurge, 0, MaxReplicasLimit); err != nil {
		return err
	}
	return rng(f("minReadySeconds"), w.MinReadySeconds, 0, 3600)
}

func rng(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return badInput(field, "must be %d to %d", lo, hi)
	}
	return nil
}

// ValidateImage checks that an image reference parses (name[:tag][@digest]).
func ValidateImage(image string) error {
	if image == "" {
		return fmt.Errorf("is required")
	}
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return fmt.Errorf("%q is not an image reference: %v", image, err)
	}
	return nil
}

// DesiredReplicas is how many pods a Deployment starts with.
func (w *Workload) DesiredReplicas() int {
	switch {
	case w.Replicas > 0:
		return w.Replicas
	case w.MinReplicas > 0:
		return w.MinReplicas
	}
	return 1
}

var mainVersionRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$`)

// CheckMainVersion validates a client's "x.y" version.
func CheckMainVersion(field, v string) error {
	if !mainVersionRE.MatchString(v) {
		return badInput(field, "must be a main version x.y (for example 1.2), not %q", v)
	}
	return nil
}

// Pod is a pod of a workload as last observed.
type Pod struct {
	Name     string `json:"name"`
	IP       string `json:"ip"`
	Node     string `json:"node"`
	NodeIP   string `json:"nodeIP"`
	Phase    string `json:"phase"`
	Ready    bool   `json:"ready"`
	Restarts int    `json:"restarts"`
	Reason   string `json:"reason,omitempty"`
	Started  int64  `json:"started,omitempty"` // Unix seconds
}
