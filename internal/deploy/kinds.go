package deploy

import (
	"time"

	"github.com/meridianplane/meridian/internal/operations"
)

// The workflow's operation kinds, with their payloads and results (the
// JSON names are those of the rows written before payloads were typed).
var (
	Connect    = operations.NewKind[ConnectArgs, ConnectResult](KindConnect)
	Apply      = operations.NewKind[ApplyArgs, ApplyResult](KindApply)
	Delete     = operations.NewKind[DeleteArgs, operations.None](KindDelete)
	NodeLabels = operations.NewKind[NodeLabelsArgs, operations.None](KindNodeLabels)
)

// ConnectArgs is the payload of a cluster.connect.
type ConnectArgs struct {
	Cluster int `json:"cluster"`
}

// ConnectResult is what a cluster.connect found.
type ConnectResult struct {
	KubernetesVersion string `json:"kubernetesVersion"`
}

// ApplyArgs is the payload of a deployment.apply: the version to apply,
// the replicas to ask (0: the spec's), and the revision it carries out
// with its action (none for a scale).
type ApplyArgs struct {
	Revision int    `json:"revision,omitempty"`
	Version  int    `json:"version"`
	Replicas int    `json:"replicas"`
	Action   string `json:"action,omitempty"`
}

// ApplyResult is the version a deployment.apply rolled out.
type ApplyResult struct {
	Version string `json:"version"`
}

// DeleteArgs is the payload of a deployment.delete.
type DeleteArgs struct {
	Revision int `json:"revision,omitempty"`
}

// NodeLabelsArgs is the payload of a node.labels.
type NodeLabelsArgs struct {
	Cluster int      `json:"cluster"`
	Label   string   `json:"label"`
	Nodes   []string `json:"nodes"`
	Add     bool     `json:"add"`
}

// rollout is what a deployment.apply keeps while it waits for the rollout
// (operations.Snooze): when the version was applied, by which runner, and
// the replicas it asked for.
type rollout struct {
	Applied time.Time      `json:"applied"`
	By      string         `json:"by"`
	Expect  map[string]int `json:"expect,omitempty"`
	Checks  int            `json:"checks"`
}

// recheck is how long a rollout wait snoozes before its next check.
func (r rollout) recheck() time.Duration {
	return min(time.Duration(r.Checks)*100*time.Millisecond, time.Second)
}
