#!/usr/bin/env bash
# What the private link's delay costs where the kernel has no netem (the
# netfilter queue and sockscope's delaying thread):
#  - throughput at full speed on an unshaped link (MTU 1500) with 1 ms each
#    way against no delay, side by side, rounds in alternating order;
#  - the delaying thread: packets it let through per second of the run,
#    and per second of its own CPU time (what one core of it sustains),
#    from the JSON summary's link.delay_packets and delay_thread_cpu_s. lo
#    keeps its segmentation offload and the queue takes GSO super-packets
#    whole (NFQA_CFG_F_GSO), so one queued packet can stand for up to 45
#    wire segments of 1448 bytes: the wire's segments per second are shown
#    beside it (bytes ÷ MSS). A third variant queues each MTU-sized segment
#    alone (SOCKSCOPE_DELAY_PER_SEGMENT=1, as a card without offload would
#    hand them): the thread's packets per second at MTU 1500. Its CPU time
#    includes the kernel's work each verdict does in its context (the
#    packets' way up the stack, the ACKs it sends).
# Prints figures only; never fails on a goal.
#
# Usage: bench/delay-cost.sh          (ROUNDS=5 SECS=3 DELAY=1)
set -euo pipefail
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
DELAY=${DELAY:-1}
for v in ROUNDS SECS DELAY; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "delay-cost: $v must be a whole number >= 1" >&2; exit 1; }
done
command -v python3 >/dev/null 2>&1 || { echo "delay-cost: python3 is not installed" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/sockscope}
[[ -x $BIN ]] || cargo build --release >&2
exec python3 - "$BIN" "$ROUNDS" "$SECS" "$DELAY" <<'PY'
import csv, json, os, statistics, subprocess, sys, tempfile

binary, rounds, secs, delay = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
work = tempfile.mkdtemp(prefix="delay-cost.")
MIB = 2**20

def record(*flags, per_segment=False):
    out, rows = os.path.join(work, "run.json"), os.path.join(work, "run.csv")
    env = dict(os.environ)
    env.pop("SOCKSCOPE_DELAY_PER_SEGMENT", None)
    if per_segment:
        env["SOCKSCOPE_DELAY_PER_SEGMENT"] = "1"
    run = subprocess.run([binary, "record", "--link", "--duration", secs, "--json", out,
                          "--csv", rows, *flags], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        sys.exit(f"delay-cost: sockscope record {' '.join(flags)}: {run.stderr.strip()}")
    s = json.load(open(out))
    assert s["integrity_ok"] is True, s
    mss = max((int(r["snd_mss_bytes"]) for r in csv.DictReader(open(rows))), default=1448)
    return s, mss

print(f"delay-cost: {rounds} rounds of {secs} s, {os.cpu_count()} CPUs, kernel {os.uname().release}")
speeds = {"none": [], "delayed": [], "segments": []}
method = None
per_s, per_cpu_s, wire_per_s, undelayed, retrans = [], [], [], [], []
seg_per_s, seg_per_cpu_s = [], []
for r in range(rounds):
    names = list(speeds)
    names = names[r % 3:] + names[:r % 3]
    for name in names:
        flags = ["--link-delay", delay] if name != "none" else []
        s, mss = record(*flags, per_segment=name == "segments")
        if name == "segments":
            link = s["link"]
            packets, cpu, elapsed = link["delay_packets"], link["delay_thread_cpu_s"], s["elapsed_s"]
            seg_per_s.append(packets / elapsed)
            seg_per_cpu_s.append(packets / cpu if cpu else 0.0)
            speeds[name].append(s["throughput_bytes_per_s"] / MIB)
            print(f"  round {r + 1}  per-segment queue  {s['throughput_bytes_per_s'] / MIB:8.1f} MiB/s  "
                  f"{packets / elapsed:,.0f} packets/s, thread CPU {cpu:.2f} s "
                  f"({packets / cpu if cpu else 0:,.0f} packets per CPU-second), "
                  f"undelayed {link['delay_undelayed_packets']}, retransmits {s['retransmits']}", flush=True)
            continue
        mib = s["throughput_bytes_per_s"] / MIB
        speeds[name].append(mib)
        line = f"  round {r + 1}  {name:7}  {mib:8.1f} MiB/s  retransmits {s['retransmits']}"
        if name == "delayed":
            link = s["link"]
            method = link["delay_method"]
            elapsed = s["elapsed_s"]
            packets = link["delay_packets"]
            cpu = link["delay_thread_cpu_s"]
            per_s.append(packets / elapsed)
            per_cpu_s.append(packets / cpu if cpu > 0 else 0.0)
            wire_per_s.append(s["bytes_read"] / mss / elapsed)
            undelayed.append(link["delay_undelayed_packets"])
            retrans.append(s["retransmits"])
            line += (f"  {method}: {packets / elapsed:,.0f} packets/s, thread CPU {cpu:.2f} s "
                     f"({packets / cpu if cpu else 0:,.0f} packets per CPU-second), "
                     f"~{s['bytes_read'] / mss / elapsed:,.0f} wire segments/s, "
                     f"undelayed {link['delay_undelayed_packets']}")
        print(line, flush=True)

none, delayed = statistics.median(speeds["none"]), statistics.median(speeds["delayed"])
ratios = [d / n for d, n in zip(speeds["delayed"], speeds["none"])]
print(f"median: no delay {none:.1f} MiB/s, {delay} ms each way ({method}) {delayed:.1f} MiB/s, "
      f"ratio {statistics.median(ratios):.2f} (per round {', '.join(f'{x:.2f}' for x in ratios)}; goal >= 0.8)")
print(f"delaying thread: {statistics.median(per_s):,.0f} packets/s carried, "
      f"{statistics.median(per_cpu_s):,.0f} packets per CPU-second, "
      f"~{statistics.median(wire_per_s):,.0f} wire segments/s; "
      f"undelayed {sum(undelayed)}, retransmits {sum(retrans)} over {rounds} runs")
print(f"each MTU-sized segment queued alone: {statistics.median(seg_per_s):,.0f} packets/s carried "
      f"at {statistics.median(speeds['segments']):.1f} MiB/s, "
      f"{statistics.median(seg_per_cpu_s):,.0f} packets per CPU-second of the thread "
      f"(goal >= 300,000/s)")
PY
