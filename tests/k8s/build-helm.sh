#!/usr/bin/env bash
# Provides the helm binary that renders deploy/helm/berth in the tests (see docs/decisions/helm-chart.md).
#
# Built, like kube-apiserver (build.sh), from the published Go modules pinned in tests/k8s/helm/go.mod,
# and kept outside the checkout in ~/.cache/berth/helm/<version>/. With BERTH_HELM set to an executable
# helm, that one is used and nothing is built.
#
# Progress goes to stderr; the last line on stdout is the path of the helm binary.
set -euo pipefail

log() { printf 'helm-build: %s\n' "$*" >&2; }

if [[ -n "${BERTH_HELM:-}" ]]; then
    if [[ ! -x "$BERTH_HELM" ]]; then
        log "BERTH_HELM=$BERTH_HELM is not an executable"
        exit 1
    fi
    log "using $BERTH_HELM"
    echo "$BERTH_HELM"
    exit 0
fi

module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/helm" && pwd)"
go_binary="$(command -v go || echo /usr/local/go/bin/go)"

version_of() {
    (cd "$module_dir" && "$go_binary" list -m -f '{{.Version}}' "$1")
}
helm_version="$(version_of helm.sh/helm/v3)"
client_go_version="$(version_of k8s.io/client-go)"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/berth/helm"
target="$cache_root/$helm_version"

if [[ -x "$target/helm" ]]; then
    log "reusing helm $helm_version from $target"
    echo "$target/helm"
    exit 0
fi

mkdir -p "$cache_root"
# Two test sessions starting at once must not build side by side: the second waits, then uses the result.
exec 9>"$cache_root/.build.lock"
flock 9
if [[ -x "$target/helm" ]]; then
    log "another build just finished: $target"
    echo "$target/helm"
    exit 0
fi

# Build into a scratch folder and rename it into place, so an interrupted build never leaves a
# half-filled cache folder that a later run would trust.
staging="$(mktemp -d "$cache_root/.building.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

# As helm's Makefile stamps them: `helm version` reports the release, and `helm template` assumes the
# Kubernetes minor its client libraries come from (k8s.io/client-go v0.N.x is Kubernetes 1.N) rather
# than the 1.20 it would otherwise.
minor="${client_go_version#v0.}"
minor="${minor%%.*}"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for package in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags="$ldflags -X $package.k8sVersionMajor=1 -X $package.k8sVersionMinor=$minor"
done

log "building helm $helm_version ($("$go_binary" env GOVERSION)); a cold build takes a few minutes"
started=$SECONDS
cd "$module_dir"
CGO_ENABLED=0 "$go_binary" build -trimpath -ldflags "$ldflags" -o "$staging/helm" helm.sh/helm/v3/cmd/helm
log "built in $((SECONDS - started))s: $(du -h "$staging/helm" | cut -f1)"

rm -rf "$target"
mv "$staging" "$target"
trap - EXIT
echo "$target/helm"
