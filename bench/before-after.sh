#!/usr/bin/env bash
# Two builds of sockscope side by side, for a change that must not cost
# anything (a refactor): PAIRS alternating pairs of `record` runs of SECS
# each, unthrottled, verifying every byte, sampling at HZ; which binary
# runs first alternates. Per pair: the throughput ratio and the ratio of
# CPU time (user + system, from getrusage) per GiB moved; then medians and
# quartiles. Prints figures only; never fails on a goal.
#
# Usage: bench/before-after.sh OLD_BIN NEW_BIN   (PAIRS=10 SECS=2 HZ=1000)
#   e.g. git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release)
set -euo pipefail
OLD=${1:?usage: bench/before-after.sh OLD_BIN NEW_BIN}
NEW=${2:?usage: bench/before-after.sh OLD_BIN NEW_BIN}
PAIRS=${PAIRS:-10}
SECS=${SECS:-2}
HZ=${HZ:-1000}
for bin in "$OLD" "$NEW"; do
    [[ -x $bin ]] || { echo "before-after: '$bin' is not an executable sockscope" >&2; exit 1; }
done
[[ $PAIRS =~ ^[1-9][0-9]*$ ]] || { echo "before-after: PAIRS must be a whole number >= 1" >&2; exit 1; }
exec python3 - "$OLD" "$NEW" "$PAIRS" "$SECS" "$HZ" <<'PY'
import json, os, resource, statistics, subprocess, sys, tempfile

old, new, pairs, secs, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
work = tempfile.mkdtemp(prefix="before-after.")
GIB = 2**30

def run(binary):
    out = os.path.join(work, "run.json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([binary, "record", "--duration", secs, "--sample-hz", hz, "--json", out],
                   check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = json.load(open(out))
    assert summary["integrity_ok"] is True, summary
    gib = summary["bytes_read"] / GIB
    return summary["throughput_bytes_per_s"] / GIB, cpu / gib, summary["sample_hz_achieved"]

speed, cpu = [], []
print(f"{'pair':>4}  {'old GiB/s':>9} {'new GiB/s':>9}  {'old CPU s/GiB':>13} {'new CPU s/GiB':>13}  new Hz")
for i in range(pairs):
    order = [old, new] if i % 2 == 0 else [new, old]
    results = {b: run(b) for b in order}
    (o_speed, o_cpu, _), (n_speed, n_cpu, n_hz) = results[old], results[new]
    speed.append(n_speed / o_speed)
    cpu.append(n_cpu / o_cpu)
    print(f"{i + 1:>4}  {o_speed:9.2f} {n_speed:9.2f}  {o_cpu:13.3f} {n_cpu:13.3f}  {n_hz:.1f}")

def line(name, ratios):
    if len(ratios) > 1:
        q1, median, q3 = statistics.quantiles(ratios, n=4)
    else:
        q1 = median = q3 = ratios[0]
    return f"{name}: median {median:.3f} ({(median - 1) * 100:+.1f} %), quartiles {q1:.3f} .. {q3:.3f}"

print()
print(line("new / old throughput     ", speed))
print(line("new / old CPU time per GiB", cpu))
PY
