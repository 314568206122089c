#!/usr/bin/env bash
# Checks what can be checked of deploy/ without a container engine or a cluster: the Kubernetes manifests render
# (kustomize, built into kubectl) and pass a schema validator (kubernetes-validate from PyPI, strict: unknown fields
# fail), and the compose file parses and validates (docker-compose from Debian's packages, `config -q`). Installs
# the tools when missing; fails — never skips — if they still cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v kubectl >/dev/null || apt_install kubernetes-client
command -v docker-compose >/dev/null || apt_install docker-compose
python=python3
if ! command -v kubernetes-validate >/dev/null; then
  "$python" -m pip install --quiet kubernetes-validate \
    || "$python" -m pip install --quiet --user kubernetes-validate \
    || "$python" -m pip install --quiet --user --break-system-packages kubernetes-validate
  export PATH="$PATH:$HOME/.local/bin"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for dir in deploy/k8s/base deploy/k8s/overlays/production; do
  name=$(echo "$dir" | tr / -)
  kubectl kustomize "$dir" > "$out/$name.yaml"
  echo "rendered $dir: $(grep -c '^kind:' "$out/$name.yaml") resources"
  kubernetes-validate --strict --quiet "$out/$name.yaml"
done
echo "kubernetes-validate (strict): every resource passed"
docker-compose -f deploy/compose.yaml config -q
echo "deploy/compose.yaml: valid"
