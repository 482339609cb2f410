#!/usr/bin/env bash
# What 1 kHz sampling costs an unthrottled transfer: PAIRS back-to-back pairs
# of `sockscope record` at 1 Hz and at 1000 Hz (SECS each), and the median
# and quartiles of the per-pair throughput ratios. Pairs, because this
# machine's speed drifts by up to 2x between runs; the median of paired
# ratios is what survives that. Prints figures only; never fails on a goal.
#
# Usage: bench/sampling-cost.sh            (PAIRS=20 SECS=2)
set -euo pipefail
PAIRS=${PAIRS:-20}
SECS=${SECS:-2}
[[ $PAIRS =~ ^[1-9][0-9]*$ ]] || { echo "sampling-cost: PAIRS must be a whole number >= 1" >&2; exit 1; }
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "sampling-cost: SECS must be a whole number >= 1" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/sockscope}
[[ -x $BIN ]] || cargo build --release >&2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sampling-cost.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
for i in $(seq "$PAIRS"); do
    "$BIN" record --duration "$SECS" --sample-hz 1 --json "$WORK/slow.json" >/dev/null
    "$BIN" record --duration "$SECS" --sample-hz 1000 --json "$WORK/fast.json" >/dev/null
    python3 - "$WORK/slow.json" "$WORK/fast.json" <<'PY' | tee -a "$WORK/ratios"
import json, sys
slow, fast = (json.load(open(p)) for p in sys.argv[1:3])
gib = 2**30
print(f"{fast['throughput_bytes_per_s'] / slow['throughput_bytes_per_s']:.3f}"
      f"  1 Hz {slow['throughput_bytes_per_s'] / gib:.2f} GiB/s"
      f"  1 kHz {fast['throughput_bytes_per_s'] / gib:.2f} GiB/s"
      f" at {fast['sample_hz_achieved']:.1f} Hz")
PY
done
python3 - "$WORK/ratios" <<'PY'
import statistics, sys
ratios = sorted(float(line.split()[0]) for line in open(sys.argv[1]))
q1, median, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
print(f"\n1 kHz / 1 Hz over {len(ratios)} pairs: median {median:.3f} ({(median - 1) * 100:+.1f} %),"
      f" quartiles {q1:.3f} .. {q3:.3f} (goal: change under 3 %)")
PY
