#!/usr/bin/env bash
# Walks every endpoint of the OTE-Stack document once, with the document's
# own example bodies, against a Meridian started on a fresh SQLite file, and
# asserts the envelope and status of each answer. Run by `make test`.
#
# Where the document's examples cannot work as printed they are changed as
# little as possible, and the change is commented: its "Create Application"
# body ends in a trailing comma (not JSON), its passwords ("xxx") are shorter
# than Meridian's minimum, and its names refer to things the walk creates.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/meridian" ./cmd/meridian
go build -o "$work/pushimage" ./hack/pushimage
go build -o "$work/openapicheck" ./internal/restgen/cmd/openapicheck
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
MERIDIAN_ADMIN_PASSWORD=smoke-admin-pw MERIDIAN_SECRET_KEY= MERIDIAN_REGISTRY= \
	"$work/meridian" serve --addr "127.0.0.1:$port" --db "sqlite://$work/smoke.db" --registry-sync 0 >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

called="$work/called"
: >"$called"
token=""
fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; tail -n 30 "$work/server.log" >&2; exit 1; }

# call METHOD TEMPLATE PATH STATUS [BODY] [extra curl args...]: one request;
# the answer must be the envelope {"code": STATUS, "message": "..."} with
# HTTP status STATUS. The answer is left in $out.
call() {
	local method=$1 template=$2 path=$3 want=$4 body=${5:-}
	shift 5 || shift $#
	local args=(-sS -o "$work/out" -w '%{http_code}' -X "$method" "$base$path")
	[ -n "$token" ] && args+=(-H "Authorization: $token")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
	local got
	got=$(curl "${args[@]}" "$@")
	out=$(cat "$work/out")
	[ "$got" = "$want" ] || fail "$method $path: HTTP $got, want $want: $out"
	jq -e --argjson c "$want" '.code == $c and (.message | type) == "string"' <<<"$out" >/dev/null ||
		fail "$method $path: not the envelope with code $want: $out"
	echo "$method $template" >>"$called"
	# Recorded for openapicheck: a 2xx call's JSON request too, any answer.
	local req=null
	if [[ $got == 2?? && $# -eq 0 ]]; then req=$(jq -n --arg b "$body" '$b'); fi
	jq -cn --arg m "$method" --arg p "$path" --argjson st "$got" --arg resp "$out" --argjson req "$req" \
		'{method: $m, path: $p, status: $st, response: $resp} + (if $req == null then {} else {request: $req, contentType: (if $req == "" then "" else "application/json" end)} end)' >>"$work/calls.jsonl"
	printf '%-7s %-40s %s\n' "$method" "$path" "$got"
}
gql() { # gql QUERY: a GraphQL request with the current token
	curl -sS "$base/graphql" -H "Authorization: $token" -H 'Content-Type: application/json' \
		--data "$(jq -n --arg q "$1" '{query: $q}')"
}
wait_for() { # wait_for DESCRIPTION COMMAND...: until COMMAND succeeds (30 s)
	local what=$1
	shift
	for _ in $(seq 1 300); do "$@" && return 0; sleep 0.1; done
	fail "timed out waiting for $what"
}

# ---------------------------------------------------------------- users
call POST /v1/authorization /v1/authorization 200 '{"user": "admin", "password": "smoke-admin-pw"}'
admin=$(jq -r .token <<<"$out")
token=$admin
call GET /v1/authorization /v1/authorization 200
call PUT /v1/authorization /v1/authorization 200
admin=$(jq -r .token <<<"$out")
token=$admin
# The document's passwords ("xxx") are below the 6-character minimum.
token="" call POST /v1/user /v1/user 200 '{"user": "user1", "password": "password1", "phone": "123456", "realName": "name1", "isAdmin": false}'
uid=$(jq -r .data.id <<<"$out")
call GET /v1/admin/user /v1/admin/user 200
call PUT /v1/admin/user/{userId} "/v1/admin/user/$uid" 200 '{"status": 1}'
call POST /v1/admin/user /v1/admin/user 200 '{"user": "sub1", "password": "password1", "phone": "123456", "realName": "name1", "role": 1}'
subid=$(jq -r .data.id <<<"$out")
call PUT /v1/admin/user/{userId}/password "/v1/admin/user/$subid/password" 200 '{"password": "password2"}'
call POST /v1/authorization /v1/authorization 200 '{"user": "user1", "password": "password1"}'
token=$(jq -r .token <<<"$out")
call PUT /v1/user /v1/user 200 '{"oldPassword": "password1", "password": "password3"}'
call POST /v1/authorization /v1/authorization 200 '{"user": "user1", "password": "password3"}'
user=$(jq -r .token <<<"$out")
token=$user

# ------------------------------------------------------------- business
call POST /v1/business /v1/business 200 '{"name": "business1", "introduce": "introduce", "objective": "objective", "scale": "100"}'
bid=$(jq -r .data.id <<<"$out")
call GET /v1/business /v1/business 200
call GET /v1/business/id/{id} "/v1/business/id/$bid" 200
token=$admin
call PUT /v1/business/id/{id} "/v1/business/id/$bid" 200 '{"status": 1, "comment": "ok"}'
token=$user

# ------------------------------------------------- clusters and nodes
# The document has no endpoint that adds a cluster: register a simulated
# one named as its examples through the graph.
gql 'mutation { registerCluster(input: {name: "cluster1", simulator: true}) { cluster { id } } }' | jq -e '.data.registerCluster.cluster.id' >/dev/null
ready() { gql '{ clusters(where: {name: "cluster1"}) { edges { node { ready nodes { totalCount } } } } }' | jq -e '.data.clusters.edges[0].node.ready and .data.clusters.edges[0].node.nodes.totalCount > 0' >/dev/null; }
wait_for "cluster1 to connect" ready
call GET /v1/cluster "/v1/cluster?clusterLabel=all&pageSize=10&page=1" 200
call POST /v1/cluster/label /v1/cluster/label 200 '{"clusterLabel": "label1", "clusterName": ["cluster1"]}'
call GET /v1/cluster/label /v1/cluster/label 200
call GET /v1/cluster/label/{clusterName} /v1/cluster/label/cluster1 200
call DELETE /v1/cluster/label /v1/cluster/label 200 '{"clusterLabel": "label1", "clusterName": ["cluster1"]}'
call GET /v1/node "/v1/node?clusterName=cluster1&nodeLabel=all" 200
node=$(jq -r '.data[0].nodeName' <<<"$out")
call POST /v1/node/label /v1/node/label 200 "{\"nodeLabel\": \"node1\", \"clusterName\": \"cluster1\", \"nodeName\": [\"$node\"]}"
call GET /v1/node/label "/v1/node/label?clusterName=cluster1" 200

# ----------------------------------------------------------- repository
call POST /v1/repository/project /v1/repository/project 201 '{"projectName": "calico", "public": true}'
pid_=$(jq -r .data.projectId <<<"$out")
call POST /v1/repository/project /v1/repository/project 415 '' -H 'Content-Type: text/plain' --data '{"projectName": "calico2", "public": true}'
call POST /v1/repository/project /v1/repository/project 409 '{"projectName": "calico", "public": true}'
call GET /v1/repository/project /v1/repository/project 200
call POST /v1/repository/user /v1/repository/user 200 '{"user": "user1", "password": "regpass1"}'
call PUT /v1/repository/user /v1/repository/user 200 '{"password": "regpass2"}'
"$work/pushimage" -user user1 -password regpass2 "127.0.0.1:$port/calico/node:latest" >/dev/null
"$work/pushimage" -user user1 -password regpass2 "127.0.0.1:$port/calico/node:v1" >/dev/null
gql 'mutation { syncRegistry { id } }' | jq -e .data.syncRegistry.id >/dev/null
synced() { curl -sS -H "Authorization: $token" "$base/v1/repository/image?projectName=calico" | jq -e '.total == 1' >/dev/null; }
wait_for "the registry sync" synced
call GET /v1/repository/image "/v1/repository/image?projectName=calico&orderBy=id&order=desc&page=1&pageSize=10" 200
call GET /v1/repository/image/tag "/v1/repository/image/tag?imageName=calico/node" 200
[ "$(jq .total <<<"$out")" = 2 ] || fail "want 2 tags: $out"
call DELETE /v1/repository/image/tag /v1/repository/image/tag 200 '{"imageName": "calico/node", "tag": ["v1"]}'
onetag() { curl -sS -H "Authorization: $token" "$base/v1/repository/image/tag?imageName=calico/node" | jq -e '.total == 1' >/dev/null; }
wait_for "the tag deletion" onetag
call DELETE /v1/repository/image /v1/repository/image 200 '{"imageName": ["calico/node"]}'
noimage() { curl -sS -H "Authorization: $token" "$base/v1/repository/image?projectName=calico" | jq -e '.total == 0' >/dev/null; }
wait_for "the image deletion" noimage
call DELETE /v1/repository/project /v1/repository/project 200 "{\"projectId\": [$pid_]}"
call POST /v1/repository/third /v1/repository/third 200 '{"repositoryId": "repo1", "address": "127.0.0.1", "user": "user1", "password": "password1"}'
call POST /v1/repository /v1/repository 200 '{"repositoryId": "repo2", "address": "127.0.0.1", "user": "user1", "password": "password1"}'
call GET /v1/repository/third "/v1/repository/third?pageSize=0" 200
call GET /v1/repository/third/{repoId} /v1/repository/third/repo1 200
[ "$(jq -r .data.user <<<"$out")" = user1 ] || fail "external registry: $out"
jq -e '.data | has("password") | not' <<<"$out" >/dev/null || fail "the password was returned: $out"
call DELETE /v1/repository /v1/repository 200 '{"repositoryId": ["repo2"]}'
call POST /v1/repository/third /v1/repository/third 200 '{"repositoryId": "repo3", "address": "https://registry.example.com", "user": "u", "password": "p"}'
call DELETE /v1/repository/third /v1/repository/third 200 '{"repositoryId": ["repo3"]}'

# --------------------------------------------------------- applications
# The document's body ends in a trailing comma; without it:
app='{
    "appName": "nginx1", "deployType": "deployment", "image": "nginx:latest", "version": "1.2",
    "repositoryId": "repo1", "replicas": 10,
    "port": [{"port": 8080, "hostPort": 9090}], "command": "",
    "volume": [{"path": "/host/usr/bin", "hostPath": "/usr/bin", "readOnly": true},
               {"path": "/host/usr/sbin", "hostPath": "/usr/sbin", "readOnly": true}],
    "env": [{"name": "NGINX_PATH", "value": "/usr/share/nginx/"}],
    "minReplicas": 2, "maxReplicas": 20, "minCPU": 10, "maxCPU": 200, "isHPA": true,
    "targetCPUUtilization": 100, "targetMemUtilization": 150, "minMemory": 100, "maxMemory": 200,
    "maxUnavailable": 1, "maxSurge": 1, "minReadySeconds": 10
}'
call POST /v1/app /v1/app 200 "$app"
[ "$(jq -r .data.version <<<"$out")" = 1.2.1 ] || fail "first version: $out"
appid=$(jq -r .data.id <<<"$out")
call POST /v1/app /v1/app 200 "$app"
[ "$(jq -r .data.version <<<"$out")" = 1.2.2 ] || fail "second version: $out"
call GET /v1/app /v1/app 200
jq -e '.apps | length == 2' <<<"$out" >/dev/null || fail "apps: $out"
call GET /v1/app/id/{appId} "/v1/app/id/$appid" 200
jq -e '.data.minCPU == 0.1 and .data.maxCPU == 2 and .data.repositoryId == "repo1" and .data.version == "1.2.1"' <<<"$out" >/dev/null || fail "app: $out"
# A chart archive, built here.
mkdir -p "$work/chart/test1/templates"
printf 'apiVersion: v2\nname: test1\nversion: 0.1.0\n' >"$work/chart/test1/Chart.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  a: b\n' >"$work/chart/test1/templates/cm.yaml"
tar -czf "$work/test1.tgz" -C "$work/chart" test1
call POST /v1/app/chart /v1/app/chart 200 '' -F "version=1.2" -F "appName=test1" -F "chart=@$work/test1.tgz"
chartid=$(jq -r .data.id <<<"$out")
echo 'not a chart' >"$work/bad.tgz"
call POST /v1/app/chart /v1/app/chart 422 '' -F "version=1.2" -F "appName=test1" -F "chart=@$work/bad.tgz"
call DELETE /v1/app /v1/app 200 "{\"appId\": [$chartid]}"

# ---------------------------------------------------------- deployments
# The document deploys version "1.1.1.1"; this walk's first version is 1.2.1.
call POST /v1/deploy/install /v1/deploy/install 200 '{"deployName": "nginx1", "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1", "nodeLabel": "node1", "comment": ""}'
did=$(jq -r .data.id <<<"$out")
[ "$(jq .data.status <<<"$out")" = 2 ] || fail "a normal user's deployment waits for audit: $out"
token=$admin
call GET /v1/admin/deploy "/v1/admin/deploy?businessName=business1&orderBy=id&order=desc&page=1&pageSize=10" 200
jq -e --argjson id "$did" '.data[0].id == $id and .data[0].status == 2' <<<"$out" >/dev/null || fail "audit list: $out"
call PUT /v1/admin/deploy /v1/admin/deploy 200 "{\"id\": $did, \"status\": 0, \"comment\": \"xxxx\"}"
call POST /v1/admin/deploy /v1/admin/deploy 409 "{\"id\": $did, \"status\": 0, \"comment\": \"xxxx\"}"
token=$user
running() { curl -sS -H "Authorization: $token" "$base/v1/deploy/id/$did" | jq -e ".data.status == 4 and .data.version == \"$1\"" >/dev/null; }
wait_for "nginx1 to run" running 1.2.1
call GET /v1/deploy "/v1/deploy?pageSize=10&page=1" 200
call GET /v1/deploy/id/{deployId} "/v1/deploy/id/$did" 200
jq -e '.data.deployType == 0 and .data.editable == true and (.data.errorMessage | fromjson | .total) == 10' <<<"$out" >/dev/null || fail "deployment: $out"
call POST /v1/deploy/id/{deployId} "/v1/deploy/id/$did" 200 '{"version": "1.2.2"}'
wait_for "the upgrade" running 1.2.2
call PUT /v1/deploy/id/{deployId} "/v1/deploy/id/$did" 200 '{"version": "1.2.1", "comment": ""}'
wait_for "the rollback" running 1.2.1
call DELETE /v1/deploy/id/{deployId} "/v1/deploy/id/$did" 200
call POST /v1/deploy /v1/deploy 200 '{"deployName": "nginx2", "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1", "comment": ""}'
call DELETE /v1/deploy/{deployName} /v1/deploy/nginx2 200

# ------------------------------------------------------------- cleanup
call DELETE /v1/node/label /v1/node/label 200 "{\"nodeLabel\": \"node1\", \"clusterName\": \"cluster1\", \"nodeName\": [\"$node\"], \"deleteDeploy\": true}"
token=$admin
call DELETE /v1/admin/user/{userId} "/v1/admin/user/$subid" 200
call DELETE /v1/authorizations /v1/authorizations 200
call POST /v1/authorization /v1/authorization 200 '{"user": "admin", "password": "smoke-admin-pw"}'
token=$(jq -r .token <<<"$out")
call DELETE /v1/authorization /v1/authorization 200

# Every endpoint of the API was called.
missing=$(jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | "\(ascii_upcase) \($p)"' rest/otestack/openapi.json | sort -u | comm -23 - <(sort -u "$called"))
[ -z "$missing" ] || fail "endpoints not walked:
$missing"
# Every request and answer fits openapi.json (kin-openapi's openapi3filter).
"$work/openapicheck" -calls "$work/calls.jsonl" rest/otestack/openapi.json || fail "calls that do not fit openapi.json"
echo "otestack smoke: every endpoint answered as documented ($(sort -u "$called" | wc -l) endpoints)"
