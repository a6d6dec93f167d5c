package schema

import "regexp"

var (
	// usernameRE: letters, digits and . _ - ; starts with a letter or digit.
	usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// nameRE: cluster and node names; Kubernetes-style names, case kept for legacy clients.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)
	// labelRE: label names usable as Kubernetes label values.
	labelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)
)

// dnsLabelRE: an RFC 1123 label, as Kubernetes object names need.
var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
