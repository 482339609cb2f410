#!/usr/bin/env bash
# What capturing the wire costs (`record --pcap`), on a private link:
#  - at a classroom rate (a 1 MiB/s writer): whether any frame is lost, and
#    whether the writer's captured segments equal the kernel's count
#    (tcpi_segs_out);
#  - at full speed on an unshaped link: throughput with the capture on
#    against off, and the frames the capture dropped. The capture turns lo's
#    TCP segmentation offload off (so frames are the kernel's segments),
#    which is part of what it costs.
# Rounds in alternating order; medians of each variant and of the per-round
# ratios. Prints figures only; never fails on a goal.
#
# Usage: bench/capture-cost.sh          (ROUNDS=5 SECS=3)
set -euo pipefail
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "capture-cost: ROUNDS must be a whole number >= 1" >&2; exit 1; }
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "capture-cost: SECS must be a whole number >= 1" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "capture-cost: python3 is not installed" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/sockscope}
[[ -x $BIN ]] || cargo build --release >&2
exec python3 - "$BIN" "$ROUNDS" "$SECS" <<'PY'
import json, os, statistics, subprocess, sys, tempfile

binary, rounds, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
work = tempfile.mkdtemp(prefix="capture-cost.")
MIB, GIB = 2**20, 2**30

def record(*flags):
    out = os.path.join(work, "run.json")
    subprocess.run([binary, "record", "--link", "--duration", secs, "--json", out, *flags],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = json.load(open(out))
    assert s["integrity_ok"] is True, s
    return s

pcap = os.path.join(work, "run.pcap")
print(f"capture-cost: {rounds} rounds of {secs} s, {os.cpu_count()} CPUs, kernel {os.uname().release}")
print("classroom rate (a 1 MiB/s writer, capture on):")
for r in range(rounds):
    c = record("--write-rate", "1M", "--pcap", pcap)["capture"]
    print(f"  round {r + 1}  frames {c['packets']}  dropped {c['dropped']}  "
          f"writer segments captured {c['writer_segments']} / tcpi_segs_out {c['writer_segs_out']}  "
          f"to the writer {c['reader_segments']} / tcpi_segs_in {c['writer_segs_in']}", flush=True)

print("full speed, unshaped link:")
speeds = {"off": [], "on": []}
for r in range(rounds):
    order = ["off", "on"] if r % 2 == 0 else ["on", "off"]
    for name in order:
        s = record(*(["--pcap", pcap] if name == "on" else []))
        gib = s["throughput_bytes_per_s"] / GIB
        speeds[name].append(gib)
        extra = ""
        if name == "on":
            c = s["capture"]
            extra = (f"  frames {c['packets']}  dropped {c['dropped']}  "
                     f"({100 * c['dropped'] / max(1, c['packets'] + c['dropped']):.2f} %)")
        print(f"  round {r + 1}  capture {name:<3} {gib:6.2f} GiB/s{extra}", flush=True)
print()
for name in ["off", "on"]:
    print(f"capture {name:<3} median {statistics.median(speeds[name]):.2f} GiB/s "
          f"(min {min(speeds[name]):.2f}, max {max(speeds[name]):.2f})")
per_round = [on / off for on, off in zip(speeds["on"], speeds["off"])]
print(f"capture on / off: median {statistics.median(per_round):.3f}   per round: "
      + " ".join(f"{x:.3f}" for x in per_round))
PY
