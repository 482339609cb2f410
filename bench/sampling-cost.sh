#!/usr/bin/env bash
# What 1 kHz sampling costs an unthrottled transfer: PAIRS back-to-back pairs
# of `sockscope record` at 1 Hz and at 1000 Hz (SECS each), which one runs
# first alternating. Two measures per pair: the throughput ratio, and the
# ratio of CPU time (the process's user + system time, from getrusage) per
# GiB moved. The CPU measure is the steadier one on this noisy machine: a
# run that is slowed down also spends less CPU. Medians and quartiles of
# the per-pair ratios. Prints figures only; never fails on a goal.
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
exec python3 - "$BIN" "$PAIRS" "$SECS" <<'PY'
import json, os, resource, statistics, subprocess, sys, tempfile

binary, pairs, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
work = tempfile.mkdtemp(prefix="sampling-cost.")
GIB = 2**30

def run(hz):
    out = os.path.join(work, f"{hz}.json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([binary, "record", "--duration", secs, "--sample-hz", str(hz), "--json", out],
                   check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    s = json.load(open(out))
    assert s["integrity_ok"] is True, s
    return s["throughput_bytes_per_s"] / GIB, cpu / (s["bytes_read"] / GIB), s["sample_hz_achieved"]

speed, cpu = [], []
print(f"{'pair':>4}  {'1 Hz GiB/s':>10} {'1 kHz GiB/s':>11}  {'1 Hz CPU s/GiB':>14} {'1 kHz CPU s/GiB':>15}  1 kHz achieved")
for i in range(pairs):
    order = [1, 1000] if i % 2 == 0 else [1000, 1]
    r = {hz: run(hz) for hz in order}
    (s_speed, s_cpu, _), (f_speed, f_cpu, f_hz) = r[1], r[1000]
    speed.append(f_speed / s_speed)
    cpu.append(f_cpu / s_cpu)
    print(f"{i + 1:>4}  {s_speed:10.2f} {f_speed:11.2f}  {s_cpu:14.3f} {f_cpu:15.3f}  {f_hz:.1f} Hz")

def line(name, ratios):
    q1, median, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
    return f"{name} median {median:.3f} ({(median - 1) * 100:+.1f} %), quartiles {q1:.3f} .. {q3:.3f}"

print()
print(line(f"1 kHz / 1 Hz throughput over {len(speed)} pairs:   ", speed))
print(line(f"1 kHz / 1 Hz CPU time per GiB over {len(cpu)} pairs:", cpu) + "  (goal: under 1 % more)")
PY
