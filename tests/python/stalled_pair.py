"""A connection between two Python sockets whose reader stops reading, as
the lesson builds one (socket, bind, listen, accept, connect, send).

The client sends without blocking until the kernel takes no more: the
server's receive buffer is full, its window closed, the client's send
buffer full. It prints one line, "ready CLIENT_PORT SERVER_PORT", then
waits for a line on stdin and closes both sockets.
"""
import socket
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
server.bind(("127.0.0.1", 0))
server.listen(1)
client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
client.connect(server.getsockname())
conn, _ = server.accept()
print("ready", client.getsockname()[1], server.getsockname()[1], flush=True)
# Wait to be told to start, so the watcher sees the buffers fill.
sys.stdin.readline()
client.setblocking(False)
chunk = b"x" * 16384
sent = 0
while True:
    try:
        sent += client.send(chunk)
    except BlockingIOError:
        # Full: wait a little for the window probe's answer, then try
        # again until several tries in a row take nothing.
        import select
        _, writable, _ = select.select([], [client], [], 0.5)
        if not writable:
            break
print("full", sent, flush=True)
sys.stdin.readline()
client.close()
conn.close()
server.close()
print("closed", flush=True)
