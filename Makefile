# Meridian. `make run` and `make test` are all a newcomer needs.
GO        ?= go
BIN       ?= bin/meridian
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DB        ?= sqlite://./meridian.db
ADDR      ?= 127.0.0.1:8080
REST_APIS := rest/otestack

KUBE_APISERVER := bin/kube-apiserver
KUBE_VERSION   := v1.35.1

.PHONY: all generate build run test lint bench clean playground-assets kube-testenv

all: build

## generate: entc (ent + graph/ent.graphql), then gqlgen, then the REST generator.
generate:
	GOFLAGS=-mod=mod $(GO) run ./ent/entc.go
	$(GO) run github.com/99designs/gqlgen generate
	$(GO) run ./internal/restgen/cmd/restgen -schema 'graph/*.graphql' $(REST_APIS)

## build: the meridian binary.
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/meridian

## run: serve on the embedded SQLite database (./meridian.db).
run: build
	./$(BIN) serve --addr $(ADDR) --db $(DB)

## test: every test, then hack/otestack-smoke.sh; PostgreSQL too when MERIDIAN_TEST_POSTGRES holds a DSN, and the
## real kube-apiserver tests when `make kube-testenv` has built their binaries.
test:
	@if [ -x $(KUBE_APISERVER) ] && command -v etcd >/dev/null 2>&1; then \
		echo "== kube-apiserver integration tests: on ($(KUBE_APISERVER), $$(command -v etcd))"; \
	else \
		echo "== kube-apiserver integration tests: SKIPPED (run make kube-testenv to build kube-apiserver and install etcd)"; \
	fi
	$(GO) test -count=1 -timeout 20m ./...
	bash hack/otestack-smoke.sh >/dev/null
	@echo "== hack/otestack-smoke.sh: every OTE-Stack endpoint walked with the document's examples"

## kube-testenv: etcd (Debian's etcd-server) and kube-apiserver built from k8s.io/kubernetes
## at the release matching client-go (hack/kube-testenv; 6-10 minutes once, then cached).
kube-testenv: $(KUBE_APISERVER)
	@command -v etcd >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null; }
	@command -v etcd >/dev/null 2>&1 && echo "etcd: $$(command -v etcd)"

$(KUBE_APISERVER): hack/kube-testenv/go.mod hack/kube-testenv/go.sum
	cd hack/kube-testenv && $(GO) build -o ../../$(KUBE_APISERVER) \
		-ldflags "-X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=35" \
		k8s.io/kubernetes/cmd/kube-apiserver

## lint: gofmt and go vet.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: Go benchmarks (performance is measured here, not in timed tests).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin

## playground-assets: fetch GraphiQL and React from the npm registry again.
playground-assets:
	rm -rf .cache/npm && mkdir -p .cache/npm
	cd .cache/npm && npm pack graphiql@3.8.3 react@18.3.1 react-dom@18.3.1 graphql-ws@5.16.0 >/dev/null && for f in *.tgz; do mkdir -p $${f%.tgz} && tar xzf $$f -C $${f%.tgz}; done
	cp .cache/npm/graphiql-3.8.3/package/graphiql.min.js .cache/npm/graphiql-3.8.3/package/graphiql.min.css internal/playground/assets/
	cp .cache/npm/react-18.3.1/package/umd/react.production.min.js .cache/npm/react-dom-18.3.1/package/umd/react-dom.production.min.js internal/playground/assets/
	cp .cache/npm/graphql-ws-5.16.0/package/umd/graphql-ws.min.js internal/playground/assets/
