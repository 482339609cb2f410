#!/usr/bin/env bash
# What watching another program's connection costs (`record --attach` at
# 1000 samples a second, through sock_diag): iperf3 over loopback for SECS
# seconds, watched against not watched, in alternating order. Prints
# iperf3's throughput both ways and the ratio per round, sockscope's CPU
# time as a share of one core, and the sample rate it achieved (a busy
# sender holds its socket's lock, so TCP_INFO is read at most 50 times a
# second then; the queues and memory every sample). Medians at the end.
# Prints figures only; never fails on a goal.
#
# Usage: bench/attach-cost.sh          (ROUNDS=5 SECS=4)
set -euo pipefail
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-4}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "attach-cost: ROUNDS must be a whole number >= 1" >&2; exit 1; }
[[ $SECS =~ ^[2-9]$|^[1-9][0-9]+$ ]] || { echo "attach-cost: SECS must be a whole number >= 2" >&2; exit 1; }
for tool in python3 iperf3 ss; do
    command -v $tool >/dev/null 2>&1 || { echo "attach-cost: $tool is not installed" >&2; exit 1; }
done
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/sockscope}
[[ -x $BIN ]] || cargo build --release >&2
exec python3 - "$BIN" "$ROUNDS" "$SECS" <<'PY'
import json, os, resource, statistics, subprocess, sys, tempfile, time

binary, rounds, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
work = tempfile.mkdtemp(prefix="attach-cost.")
GIB = 2**30
port = 5300 + os.getpid() % 600

def iperf(watch):
    server = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    client = subprocess.Popen(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(secs), "-J"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    figures = None
    if watch:
        # The data connection: the one from iperf3's client with bytes queued.
        local = None
        for _ in range(200):
            out = subprocess.run(["ss", "-tnH", "state", "established", f"( dport = :{port} )"],
                                 capture_output=True, text=True).stdout.split("\n")
            rows = [line.split() for line in out if line.strip()]
            if len(rows) >= 2:
                local = max(rows, key=lambda r: int(r[1]))[2]
                break
            time.sleep(0.01)
        summary = os.path.join(work, "run.json")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([binary, "record", "--attach", local, "--sample-hz", "1000",
                        "--duration", str(secs - 1), "--json", summary],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        s = json.load(open(summary))
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        figures = (cpu / s["elapsed_s"], s["sample_hz_achieved"])
    result = json.loads(client.communicate()[0])
    server.wait()
    return result["end"]["sum_received"]["bits_per_second"] / 8 / GIB, figures

print(f"attach-cost: {rounds} rounds of {secs} s, {os.cpu_count()} CPUs, kernel {os.uname().release}")
ratios, cores, rates = [], [], []
for r in range(rounds):
    order = [False, True] if r % 2 == 0 else [True, False]
    got = {}
    for watch in order:
        got[watch] = iperf(watch)
    plain, (watched, (core, hz)) = got[False][0], got[True]
    ratios.append(watched / plain)
    cores.append(core)
    rates.append(hz)
    print(f"  round {r + 1}: iperf3 {plain:.2f} GiB/s alone, {watched:.2f} watched (ratio {watched / plain:.3f}); "
          f"sockscope {100 * core:.1f} % of one core, {hz:.0f} samples/s")
print(f"median: watched/alone {statistics.median(ratios):.3f}, sockscope {100 * statistics.median(cores):.1f} % "
      f"of one core, {statistics.median(rates):.0f} samples/s (asked 1000)")
PY
