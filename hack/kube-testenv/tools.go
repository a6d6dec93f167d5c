//go:build tools

// Package tools pins kube-apiserver for `go build`.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
