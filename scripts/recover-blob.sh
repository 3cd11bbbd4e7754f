#!/usr/bin/env bash
# Opens an appsigning sealed blob (format APSB v1) with standard tools only: the AWS CLI (for
# KMS-sealed blobs) or openssl (for passphrase-sealed blobs), plus coreutils. This is the escape
# hatch the README documents: if appsigning were gone, your keys are not.
#
#   scripts/recover-blob.sh BLOB_FILE > bundle.json
#
# For KMS blobs the AWS CLI must reach the key (AWS_* variables; AWS_ENDPOINT_URL for a local
# server). For passphrase blobs set APPSIGNING_PASSPHRASE. The output is the bundle JSON: each part
# is {"t":"s","v":text} or {"t":"b","v":base64}.
#
# AES-256-GCM with a 12-byte IV is AES-256-CTR starting at counter block IV||00000002 (NIST SP
# 800-38D), which `openssl enc` can run. This path skips the GCM tag check: appsigning itself
# verifies it; use this only to recover.
set -eu  # no pipefail: grep | head pipelines may end early by design
blob=$1
[ "$(head -c 4 "$blob")" = "APSB" ] || { echo "not an appsigning blob: $blob" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hlen=$(od -An -tu4 --endian=big -j5 -N4 "$blob" | tr -d ' ')
# No pipelines that close early (tail | head): under pipefail, SIGPIPE would fail the script.
header=$(dd if="$blob" bs=1 skip=9 count="$hlen" status=none)
size=$(stat -L -c %s "$blob")
body_len=$((size - 9 - hlen - 16))
[ "$body_len" -ge 0 ] || { echo "retired or truncated blob: no sealed content" >&2; exit 1; }

field() { printf '%s' "$header" | grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | sed 's/.*:"\(.*\)"/\1/'; }
hex() { base64 -d | od -An -tx1 -v | tr -d ' \n'; }

# The body IV is the top-level "iv", which comes before the "key" object in the header.
body_iv=$(printf '%s' "$header" | sed 's/"key":{.*//' | grep -o '"iv":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/' | hex)
key_json=$(printf '%s' "$header" | grep -o '"key":{[^}]*}')
key_field() { printf '%s' "$key_json" | grep -o "\"$1\":\"\\?[^\",}]*" | head -n 1 | sed 's/^"[^"]*":"\{0,1\}//'; }

case "$(key_field type)" in
  aws-kms)
    ctx=$(printf '%s' "$header" | grep -o '"ctx":{[^}]*}' | sed 's/^"ctx"://')
    key_field edk | base64 -d > "$work/edk"
    dk=$(aws kms decrypt --ciphertext-blob "fileb://$work/edk" --key-id "$(key_field keyId)" \
      --encryption-context "$ctx" --query Plaintext --output text | hex)
    ;;
  passphrase)
    : "${APPSIGNING_PASSPHRASE:?set APPSIGNING_PASSPHRASE}"
    kek=$(openssl kdf -keylen 32 -kdfopt "pass:$APPSIGNING_PASSPHRASE" \
      -kdfopt "hexsalt:$(key_field salt | hex)" -kdfopt "n:$(key_field N)" -kdfopt "r:$(key_field r)" \
      -kdfopt "p:$(key_field p)" -kdfopt maxmem_bytes:1073741824 SCRYPT | tr -d ':\n' | tr 'A-F' 'a-f')
    key_field edk | base64 -d > "$work/edk"
    dk=$(openssl enc -d -aes-256-ctr -K "$kek" -iv "$(key_field iv | hex)00000002" -in "$work/edk" | od -An -tx1 -v | tr -d ' \n')
    ;;
  *) echo "unknown key type in header" >&2; exit 1 ;;
esac
tail -c +$((10 + hlen)) "$blob" > "$work/rest"
head -c "$body_len" "$work/rest" > "$work/body"
openssl enc -d -aes-256-ctr -K "$dk" -iv "${body_iv}00000002" -in "$work/body"
