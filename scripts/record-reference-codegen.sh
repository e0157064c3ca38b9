#!/usr/bin/env bash
# Re-record the reference CLI's codegen output for every fixture under
# tests/fixtures/codegen/ (see docs/codegen.md). Needs node and the reference
# install (default ~/.cache/convex-reference, or $CONVEX_REFERENCE_DIR).
set -euo pipefail
exec python3 "$(dirname "$0")/record_reference_codegen.py" "$@"
