#!/usr/bin/env bash
# Regenerates the README's screenshots with sockscope's own scripted capture,
# in a virtual X display (Debian: xvfb, mesa-vulkan-drivers). Each is a real
# loopback session; the numbers differ a little from run to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release
bin=${CARGO_TARGET_DIR:-target}/release/sockscope
shot() { # size name args...
    local size=$1 name=$2
    shift 2
    LANG=C.UTF-8 xvfb-run -a -s "-screen 0 ${size}x24" "$bin" "$@" --screenshot "screenshots/$name.png" 2>&1 \
        | grep -v XDG_RUNTIME_DIR || true
}
shot 1280x800 slow-reader --preset slow-reader --quit-after 8
shot 1280x800 paused-reader --preset paused-reader --quit-after 4
shot 1280x800 balanced --preset balanced --quit-after 4
shot 1024x768 projector-1024x768 --preset paused-reader --projector --quit-after 4
shot 1280x800 slow-reader-zh --preset slow-reader --lang zh --quit-after 8
shot 1280x800 server-grid --open server --quit-after 5
shot 1280x800 slow-link --preset slow-link --quit-after 5
shot 1280x800 wire --preset slow-link --link-loss 1 --open wire --quit-after 6
shot 1280x800 lossy-link --preset slow-link --link-loss 1 --quit-after 10
shot 1280x800 long-link --preset long-link --quit-after 6
# A recording with its packets (record --pcap) played back at 3.5 s.
recorded=$(mktemp -d)
"$bin" record --link-rate 256K --read-rate 64K --sndbuf 64K --rcvbuf 64K --duration 6 \
    --pcap "$recorded/lesson.pcap" --csv "$recorded/lesson.csv" --json "$recorded/lesson.json" >/dev/null
shot 1280x800 playback-wire open "$recorded/lesson.csv" --at 3.5 --open wire --quit-after 3
rm -r "$recorded"
# An outside client: the lesson's kind of Python client sending GBK text.
python3 - <<'PY' &
import socket, time
s = socket.socket()
for _ in range(100):
    try:
        s.connect(("127.0.0.1", 9100))
        break
    except OSError:
        time.sleep(0.1)
end = time.time() + 8
try:
    while time.time() < end:
        s.send("你好, server! ".encode("gbk") * 200)
        time.sleep(0.05)
except OSError:
    pass  # sockscope quit after its screenshot
PY
shot 1280x800 listen-outside-client --listen 9100 --quit-after 5
wait
# Another program's connection (--attach): the lesson's two Python sockets,
# the reader never reading (tests/python/stalled_pair.py).
exec 3< <( (sleep 1; echo; sleep 12; echo) )
coproc pair { python3 -u tests/python/stalled_pair.py <&3; }
read -r _ client_port _ <&"${pair[0]}"
shot 1280x800 attached-python --attach "127.0.0.1:$client_port" --quit-after 5
shot 1280x800 connections --open connections --quit-after 4
wait
