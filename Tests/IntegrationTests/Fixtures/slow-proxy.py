#!/usr/bin/env python3
"""The registry tests' slow link: a TCP proxy on 127.0.0.1 that passes requests to a registry
as they come and its answers back at a fixed rate, so that a test can catch a pull in the
middle of a blob (to kill it there, or to act while it runs).

    slow-proxy.py --port P --upstream U --rate BYTES_PER_SECOND

Each connection gets its own pair of threads; the proxy runs until it is killed.
"""
import argparse
import socket
import threading
import time


def relay(source, destination, rate):
    """Copies source to destination until either end closes, at `rate` bytes a second when set."""
    chunk = max(1, rate // 20) if rate else 65536
    try:
        while True:
            data = source.recv(chunk)
            if not data:
                break
            destination.sendall(data)
            if rate:
                time.sleep(len(data) / rate)
    except OSError:
        pass
    finally:
        for end in (source, destination):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, upstream_port, rate):
    try:
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    threading.Thread(target=relay, args=(client, upstream, 0), daemon=True).start()
    relay(upstream, client, rate)
    client.close()
    upstream.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--rate", type=int, required=True)
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(16)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, args.upstream, args.rate), daemon=True).start()


if __name__ == "__main__":
    main()
