"""WebSocket members of chat-hub (server.js): each connects, upgrades,
sends one text frame and reads the echo, then leaves as --leave says:
"close" sends a close frame and waits for the hub's before closing,
"drop" closes the TCP connection without one (a closed tab), "stay" keeps
the connection open until killed."""
import argparse
import base64
import os
import socket
import sys
import time


def masked(opcode, payload):
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


def read_frame(s):
    head = s.recv(2)
    if len(head) < 2:
        return None, b""
    n = head[1] & 0x7F
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return head[0] & 0x0F, data


def member(port, name, leave):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    status = head.split(b"\r\n", 1)[0].decode()
    s.sendall(masked(0x1, f"hello from {name}".encode()))
    _, echo = read_frame(s)
    print(f"{time.strftime('%H:%M:%S')} {name}: {status}; {echo.decode()}; leaves: {leave}", flush=True)
    if leave == "close":
        s.sendall(masked(0x8, b"\x03\xe8bye"))
        read_frame(s)
        s.close()
    elif leave == "drop":
        s.close()
    return s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--gap", type=float, default=0)
    p.add_argument("--leave", choices=["close", "drop", "stay"], required=True)
    p.add_argument("--name", default="member")
    a = p.parse_args()
    kept = []
    for i in range(a.count):
        kept.append(member(a.port, f"{a.name}-{i + 1}", a.leave))
        time.sleep(a.gap)
    if a.leave == "stay":
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
