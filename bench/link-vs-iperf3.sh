#!/usr/bin/env bash
# Throughput on an unshaped private link (a network namespace's own lo, MTU
# 1500): sockscope's --link against iperf3 on the same kind of link (iperf3
# inside `unshare -Urn` with lo at MTU 1500), and against sockscope on the
# machine's loopback. Rounds in a rotating order (no variant always first);
# medians of each variant and of the per-round ratios. Prints figures
# only; never fails on a goal.
#
# Usage: bench/link-vs-iperf3.sh          (ROUNDS=5 SECS=3)
# Needs iperf3, unshare and ip (iproute2), and unprivileged user namespaces.
set -euo pipefail
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "link-vs-iperf3: ROUNDS must be a whole number >= 1" >&2; exit 1; }
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "link-vs-iperf3: SECS must be a whole number >= 1" >&2; exit 1; }
for program in iperf3 unshare ip python3; do
    command -v "$program" >/dev/null 2>&1 || { echo "link-vs-iperf3: $program is not installed" >&2; exit 1; }
done
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/sockscope}
[[ -x $BIN ]] || cargo build --release >&2
exec python3 - "$BIN" "$ROUNDS" "$SECS" <<'PY'
import json, os, statistics, subprocess, sys, tempfile

binary, rounds, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
work = tempfile.mkdtemp(prefix="link-vs-iperf3.")
GIB = 2**30

def sockscope(*flags):
    out = os.path.join(work, "run.json")
    subprocess.run([binary, "record", "--duration", secs, "--json", out, *flags],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = json.load(open(out))
    assert s["integrity_ok"] is True, s
    return s["throughput_bytes_per_s"] / GIB, s["retransmits"]

# iperf3's server and client in one private namespace, lo at MTU 1500.
# iperf3 3.12 now and then hangs at the end of a test: every step has a
# timeout, and a round that fails is run again (at most 3 times).
limit = int(secs) + 10
IPERF = f"""
ip link set lo mtu 1500 up
timeout {limit + 5} iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
for i in $(seq 100); do
    timeout {limit} iperf3 -c 127.0.0.1 -p 5201 -t {secs} -J 2>/dev/null && break
    sleep 0.05
done
wait
"""

def iperf3_link():
    for _ in range(3):
        try:
            done = subprocess.run(["unshare", "-Urn", "sh", "-c", IPERF], capture_output=True,
                                  text=True, timeout=limit + 20)
            end = json.loads(done.stdout)["end"]
            return end["sum_received"]["bits_per_second"] / 8 / GIB, end["sum_sent"].get("retransmits", 0)
        except (subprocess.TimeoutExpired, ValueError, KeyError):
            print("  (iperf3 did not finish; running that round again)", flush=True)
    raise SystemExit("link-vs-iperf3: iperf3 failed three times in a row")

variants = {
    "sockscope --link": lambda: sockscope("--link"),
    "iperf3 on a link": iperf3_link,
    "sockscope loopback": lambda: sockscope(),
}
names = list(variants)
speeds = {name: [] for name in names}
print(f"link-vs-iperf3: {rounds} rounds of {secs} s, {os.cpu_count()} CPUs, kernel {os.uname().release}")
for r in range(rounds):
    order = names[r % len(names):] + names[:r % len(names)]
    for name in order:
        gib, retrans = variants[name]()
        speeds[name].append(gib)
        print(f"round {r + 1}  {name:<20} {gib:6.2f} GiB/s  retransmits {retrans}", flush=True)

print()
for name in names:
    print(f"{name:<20} median {statistics.median(speeds[name]):.2f} GiB/s (min {min(speeds[name]):.2f}, max {max(speeds[name]):.2f})")
def ratio(a, b):
    per_round = [x / y for x, y in zip(speeds[a], speeds[b])]
    return statistics.median(per_round), per_round
for a, b in [("sockscope --link", "iperf3 on a link"), ("sockscope --link", "sockscope loopback")]:
    median, per_round = ratio(a, b)
    print(f"{a} / {b}: median {median:.3f}   per round: {' '.join(f'{x:.3f}' for x in per_round)}")
PY
