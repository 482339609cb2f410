#!/usr/bin/env bash
# What capturing the wire costs (`record --pcap`), on a private link:
#  - at a classroom rate (a 1 MiB/s writer): whether any frame is lost, and
#    whether the writer's captured segments equal the kernel's count
#    (tcpi_segs_out);
#  - at full speed on an unshaped link: throughput with no capture, with
#    the capture alone (`--capture`: segments counted, the ladder's log, no
#    file) and with the pcap written too (`--pcap`: a record per segment,
#    over 100 MB/s at full speed), and what the capture dropped. lo keeps
#    its segmentation offload; super-segments are cut by their gso_size.
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
print("classroom rate (a 1 MiB/s writer, pcap written):")
for r in range(rounds):
    c = record("--write-rate", "1M", "--pcap", pcap)["capture"]
    print(f"  round {r + 1}  frames {c['packets']}  dropped {c['dropped']}  "
          f"writer segments captured {c['writer_segments']} / tcpi_segs_out {c['writer_segs_out']}  "
          f"to the writer {c['reader_segments']} / tcpi_segs_in {c['writer_segs_in']}", flush=True)

print("full speed, unshaped link:")
variants = {"off": [], "capture": ["--capture"], "pcap": ["--pcap", pcap]}
speeds = {name: [] for name in variants}
for r in range(rounds):
    # Each round in a rotated order, so no variant always runs first.
    names = list(variants)
    names = names[r % 3:] + names[:r % 3]
    for name in names:
        s = record(*variants[name])
        gib = s["throughput_bytes_per_s"] / GIB
        speeds[name].append(gib)
        extra = ""
        if name != "off":
            c = s["capture"]
            extra = (f"  segments {c['packets']}  dropped {c['dropped']}  "
                     f"({100 * c['dropped'] / max(1, c['packets'] + c['dropped']):.2f} %)  "
                     f"writer {c['writer_segments']} / segs_out {c['writer_segs_out']}")
        print(f"  round {r + 1}  {name:<8} {gib:6.2f} GiB/s{extra}", flush=True)
print()
for name in variants:
    print(f"{name:<8} median {statistics.median(speeds[name]):.2f} GiB/s "
          f"(min {min(speeds[name]):.2f}, max {max(speeds[name]):.2f})")
for name in ["capture", "pcap"]:
    per_round = [on / off for on, off in zip(speeds[name], speeds["off"])]
    print(f"{name} / off: median {statistics.median(per_round):.3f}   per round: "
          + " ".join(f"{x:.3f}" for x in per_round))
PY
