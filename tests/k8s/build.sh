#!/usr/bin/env bash
# Provides a real kube-apiserver, kube-controller-manager and etcd for the integration tests and
# the local run.
#
# No registry this project can reach ships them, so they are built from the published Go modules
# pinned in tests/k8s/build/go.mod. A cold build takes many minutes on two cores, so the result is
# kept outside the checkout, in ~/.cache/berth/k8s/<versions>/, and reused. A folder from before
# the controller manager was added gets it built next to the others, which are left alone.
# With KUBEBUILDER_ASSETS set (the envtest convention: a folder holding kube-apiserver and etcd)
# those binaries are used and nothing is built; envtest's archives lack kube-controller-manager,
# so that folder must have one added (see the message below).
#
# Progress goes to stderr; the last line on stdout is the folder holding all three binaries.
set -euo pipefail

log() { printf 'k8s-build: %s\n' "$*" >&2; }

binaries=(etcd kube-apiserver kube-controller-manager)

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
    for binary in "${binaries[@]}"; do
        if [[ ! -x "$KUBEBUILDER_ASSETS/$binary" ]]; then
            log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable $binary"
            if [[ "$binary" == kube-controller-manager ]]; then
                log "envtest's archives ship no kube-controller-manager, which the tests and the local run need"
                log "(it creates every namespace's default ServiceAccount): copy one of the same Kubernetes"
                log "version as that kube-apiserver into the folder, or unset KUBEBUILDER_ASSETS to build all three"
            fi
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

missing_in() {
    local binary
    for binary in "${binaries[@]}"; do
        [[ -x "$1/$binary" ]] || printf '%s\n' "$binary"
    done
}

if [[ -z "$(missing_in "$target")" ]]; then
    log "reusing kube-apiserver and kube-controller-manager $kubernetes_version and etcd $etcd_version from $target"
    echo "$target"
    exit 0
fi

mkdir -p "$cache_root"
# Two test sessions starting at once must not build side by side: the second waits, then
# finds the finished folder.
exec 9>"$cache_root/.build.lock"
flock 9
mapfile -t missing < <(missing_in "$target")
if [[ ${#missing[@]} -eq 0 ]]; then
    log "another build just finished: $target"
    echo "$target"
    exit 0
fi

# Build into a scratch folder and rename into place, so an interrupted build never leaves a
# half-filled cache folder (or a half-written binary) that a later run would trust.
staging="$(mktemp -d "$cache_root/.building.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

log "building ${missing[*]} (Kubernetes $kubernetes_version, etcd $etcd_version, $("$go_binary" env GOVERSION))"
log "a cold build takes a long while"
# Static, stripped, path-free binaries, as upstream ships them. The version stamp makes
# /version and --version report the release rather than v0.0.0-master.
export CGO_ENABLED=0
version_package="k8s.io/component-base/version"
minor="${kubernetes_version#v1.}"
minor="${minor%%.*}"
kubernetes_ldflags="-s -w -X $version_package.gitVersion=$kubernetes_version -X $version_package.gitMajor=1 -X $version_package.gitMinor=$minor -X $version_package.gitTreeState=clean"

started=$SECONDS
cd "$module_dir"
for binary in "${missing[@]}"; do
    step_started=$SECONDS
    log "go build $binary"
    case "$binary" in
        etcd) package=go.etcd.io/etcd/server/v3 ldflags='-s -w' ;;
        *) package="k8s.io/kubernetes/cmd/$binary" ldflags="$kubernetes_ldflags" ;;
    esac
    "$go_binary" build -trimpath -ldflags "$ldflags" -o "$staging/$binary" "$package"
    log "$binary built in $((SECONDS - step_started))s ($(du -h "$staging/$binary" | cut -f1))"
done
log "all built in $((SECONDS - started))s"

if [[ ${#missing[@]} -eq ${#binaries[@]} ]]; then
    rm -rf "$target"
    mv "$staging" "$target"
else
    # Readers check for the binaries without the lock, so each arrives whole by a rename.
    for binary in "${missing[@]}"; do
        mv "$staging/$binary" "$target/$binary"
    done
fi
echo "$target"
