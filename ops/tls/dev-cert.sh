#!/usr/bin/env bash
# Self-signed development certificate for HAProxy's TLS listener.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ops/tls/dev-cert.sh [--out DIR] [--days N] [--force] [--help]

Writes a self-signed certificate for localhost, 127.0.0.1 and evently.local,
for development and tests only:
  DIR/evently.pem   certificate + private key, as HAProxy's `crt` wants it
  DIR/evently.crt   the certificate alone, for clients (curl --cacert, NODE_EXTRA_CA_CERTS)
DIR defaults to ops/tls/certs (git-ignored), which docker-compose.yml mounts
into HAProxy. An existing pair is kept unless --force. Needs openssl.
USAGE
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/ops/tls/certs"
days=825
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --days) days="${2:?--days needs a number}"; shift 2 ;;
    --force) force=1; shift ;;
    *) echo "dev-cert.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

command -v openssl >/dev/null 2>&1 || { echo "dev-cert.sh: openssl is missing: apt-get install -y openssl" >&2; exit 1; }
mkdir -p "$out"
if [ -s "$out/evently.pem" ] && [ "$force" -eq 0 ]; then
  echo "kept $out/evently.pem (use --force to replace it)"
  exit 0
fi
key="$(mktemp)"
trap 'rm -f "$key"' EXIT
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days "$days" \
  -subj "/CN=evently.local" \
  -addext "subjectAltName=DNS:localhost,DNS:evently.local,IP:127.0.0.1" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$key" -out "$out/evently.crt" 2>/dev/null
cat "$out/evently.crt" "$key" > "$out/evently.pem"
chmod 600 "$out/evently.pem"
echo "wrote $out/evently.pem and $out/evently.crt (self-signed, $days days)"
