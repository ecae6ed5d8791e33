#!/usr/bin/env bash
# Provides a real kube-apiserver and etcd for the integration tests and the local run.
#
# No registry this project can reach ships kube-apiserver, so it is built from the published
# Go modules pinned in tests/k8s/build/go.mod. A cold build takes many minutes on two cores, so
# the result is kept outside the checkout, in ~/.cache/berth/k8s/<versions>/, and reused.
# With KUBEBUILDER_ASSETS set (the envtest convention: a folder holding kube-apiserver and
# etcd) those binaries are used and nothing is built.
#
# Progress goes to stderr; the last line on stdout is the folder holding both binaries.
set -euo pipefail

log() { printf 'k8s-build: %s\n' "$*" >&2; }

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
    for binary in kube-apiserver etcd; do
        if [[ ! -x "$KUBEBUILDER_ASSETS/$binary" ]]; then
            log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable $binary"
            exit 1
        fi
    done
    log "using binaries from KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"
    exit 0
fi

module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/build" && pwd)"
# Debian's PATH lacks the Go toolchain, which this machine keeps in /usr/local/go.
go_binary="$(command -v go || echo /usr/local/go/bin/go)"

version_of() {
    (cd "$module_dir" && "$go_binary" list -m -f '{{.Version}}' "$1")
}
kubernetes_version="$(version_of k8s.io/kubernetes)"
etcd_version="$(version_of go.etcd.io/etcd/server/v3)"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/berth/k8s"
target="$cache_root/${kubernetes_version}_etcd-${etcd_version}"

if [[ -x "$target/kube-apiserver" && -x "$target/etcd" ]]; then
    log "reusing kube-apiserver $kubernetes_version and etcd $etcd_version from $target"
    echo "$target"
    exit 0
fi

mkdir -p "$cache_root"
# Two test sessions starting at once must not build side by side: the second waits, then
# finds the finished folder.
exec 9>"$cache_root/.build.lock"
flock 9
if [[ -x "$target/kube-apiserver" && -x "$target/etcd" ]]; then
    log "another build just finished: $target"
    echo "$target"
    exit 0
fi

# Build into a scratch folder and rename it into place, so an interrupted build never
# leaves a half-filled cache folder that a later run would trust.
staging="$(mktemp -d "$cache_root/.building.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

log "building kube-apiserver $kubernetes_version and etcd $etcd_version ($("$go_binary" env GOVERSION)); a cold build takes a long while"
# Static, stripped, path-free binaries, as upstream ships them. The version stamp makes
# /version and --version report the release rather than v0.0.0-master.
export CGO_ENABLED=0
version_package="k8s.io/component-base/version"
minor="${kubernetes_version#v1.}"
minor="${minor%%.*}"
apiserver_ldflags="-s -w -X $version_package.gitVersion=$kubernetes_version -X $version_package.gitMajor=1 -X $version_package.gitMinor=$minor -X $version_package.gitTreeState=clean"

started=$SECONDS
cd "$module_dir"
log "go build etcd"
"$go_binary" build -trimpath -ldflags '-s -w' -o "$staging/etcd" go.etcd.io/etcd/server/v3
log "etcd built after $((SECONDS - started))s; go build kube-apiserver"
"$go_binary" build -trimpath -ldflags "$apiserver_ldflags" -o "$staging/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
log "both built in $((SECONDS - started))s"

rm -rf "$target"
mv "$staging" "$target"
trap - EXIT
for binary in kube-apiserver etcd; do
    log "$binary: $(du -h "$target/$binary" | cut -f1)"
done
echo "$target"
