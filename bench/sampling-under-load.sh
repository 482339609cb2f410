#!/usr/bin/env bash
# How well the sampler keeps 1 kHz on a machine whose cores are all busy:
# `sockscope record --sample-hz 1000` for SECS with the reader paused (the
# sampling threads sleep between samples) and busy (4 MiB/s), first alone,
# then beside HOGS processes that spin on the CPU (`yes`). Prints the rate
# achieved and the gaps between samples (median, 90th percentile, worst),
# and the loaded rate against the quiet one. Prints figures only; never
# fails on a goal. BIN picks the build, to compare two side by side.
#
# Usage: bench/sampling-under-load.sh       (SECS=2 HOGS=2)
set -euo pipefail
SECS=${SECS:-2}
HOGS=${HOGS:-2}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "sampling-under-load: SECS must be a whole number >= 1" >&2; exit 1; }
[[ $HOGS =~ ^[0-9]+$ ]] || { echo "sampling-under-load: HOGS must be a whole number >= 0" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/sockscope}
[[ -x $BIN ]] || cargo build --release >&2
exec python3 - "$BIN" "$SECS" "$HOGS" <<'PY'
import csv, json, os, subprocess, sys, tempfile

binary, secs, hogs = sys.argv[1], sys.argv[2], int(sys.argv[3])
work = tempfile.mkdtemp(prefix="sampling-under-load.")

def run(read_rate):
    out = os.path.join(work, "run")
    subprocess.run([binary, "record", "--duration", secs, "--sample-hz", "1000",
                    "--write-rate", "4M", "--read-rate", read_rate,
                    "--csv", out + ".csv", "--json", out + ".json"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = [float(row["t_ms"]) for row in csv.DictReader(open(out + ".csv"))]
    gaps = sorted(b - a for a, b in zip(t, t[1:]))
    achieved = json.load(open(out + ".json"))["sample_hz_achieved"]
    return achieved, gaps[len(gaps) // 2], gaps[9 * len(gaps) // 10], gaps[-1]

print(f"{binary}, 1000 Hz asked, {secs} s a run, {hogs} CPU hogs beside the loaded runs")
print(f"{'reader':<8} {'load':<8} {'achieved Hz':>11} {'gap p50 ms':>10} {'p90 ms':>7} {'worst ms':>8}  loaded/quiet")
for reader, rate in [("paused", "0"), ("busy", "4M")]:
    quiet = run(rate)
    spinners = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(hogs)]
    try:
        loaded = run(rate)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    for load, (hz, p50, p90, worst) in [("quiet", quiet), (f"{hogs} hogs", loaded)]:
        ratio = f"  {loaded[0] / quiet[0]:.2f}" if load != "quiet" else ""
        print(f"{reader:<8} {load:<8} {hz:>11.0f} {p50:>10.2f} {p90:>7.2f} {worst:>8.1f}{ratio}")
PY
