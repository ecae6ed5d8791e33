"""What an attacker points Berth at: plain TCP servers on loopback with scripted answers.

A `Listener` counts every connection it accepts, so a test can tell whether Berth contacted it at
all, and records whether each scripted answer ran to its end or the client hung up first. These
are not stand-ins for a registry (the real one is in tests/services/docker_registry.py): they are
the hostile or private services that Berth must refuse to reach, or whose answers it must cut off.
Leaving the `with` block waits for the answers still being written, so the counts are final.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

Reply = Callable[[socket.socket, bytes], None]
"""Writes an answer to the connection, given the request head it received."""


class Listener:
    def __init__(self, reply: Reply | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._reply = reply
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.2)
        self.host, self.port = self._server.getsockname()[:2]
        self.connections = 0
        self.requests: list[bytes] = []
        self.completed = 0
        """Answers written to their end."""
        self.cut_off = 0
        """Answers the client hung up on before their end."""
        self._lock = threading.Lock()
        self._answering: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"listener-{self.port}", daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._server.close()
        # An answer the client hung up on ends at its next write; one that runs to its end takes its time.
        for thread in self._answering:
            thread.join(timeout=60)

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._answer, args=(connection,), daemon=True)
            self._answering.append(thread)
            thread.start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(2)
            head = b""
            try:
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    head += chunk
            except OSError:
                pass
            with self._lock:
                self.requests.append(head)
            if self._reply is None:
                return
            try:
                self._reply(connection, head)
            except OSError:
                with self._lock:
                    self.cut_off += 1
                return
            with self._lock:
                self.completed += 1


def path_of(head: bytes) -> str:
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    return parts[1] if len(parts) > 1 else ""


def http_answer(status: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [
        f"HTTP/1.1 {status}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def answering(status: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Reply:
    def reply(connection: socket.socket, head: bytes) -> None:
        connection.sendall(http_answer(status, headers, body))

    return reply


def bearer_registry(realm: str) -> Reply:
    """A registry whose token realm is `realm`."""
    return answering("401 Unauthorized", {"WWW-Authenticate": f'Bearer realm="{realm}",service="hostile"'})


def dripping_headers(lines: int, pause: float) -> Reply:
    """Keeps the answer's head open by sending one header line at a time."""

    def reply(connection: socket.socket, head: bytes) -> None:
        connection.sendall(b"HTTP/1.1 401 Unauthorized\r\n")
        for number in range(lines):
            time.sleep(pause)
            connection.sendall(f"X-Drip-{number}: .\r\n".encode())
        connection.sendall(b"Content-Length: 0\r\n\r\n")

    return reply


def token_service_with_body(
    body: Callable[[socket.socket], None], realm_path: str = "/token"
) -> Callable[[str], Reply]:
    """A registry sending logins to its own `realm_path`, which answers with `body` after a 200 head."""

    def for_registry(registry_url: str) -> Reply:
        challenge = bearer_registry(f"{registry_url}{realm_path}")

        def reply(connection: socket.socket, head: bytes) -> None:
            if path_of(head).startswith(realm_path):
                body(connection)
            else:
                challenge(connection, head)

        return reply

    return for_registry


def huge_json(total: int, chunk: int = 64 * 1024) -> Callable[[socket.socket], None]:
    def body(connection: socket.socket) -> None:
        connection.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        connection.sendall(b'{"token": "')
        sent = 11
        while sent < total:
            part = min(chunk, total - sent)
            connection.sendall(b"a" * part)
            sent += part

    return body


def dripping_json(parts: int, pause: float) -> Callable[[socket.socket], None]:
    def body(connection: socket.socket) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        )
        for _ in range(parts):
            time.sleep(pause)
            connection.sendall(b"1\r\n \r\n")
        connection.sendall(b"0\r\n\r\n")

    return body
