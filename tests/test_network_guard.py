"""The test-wide guard: reaching the internet fails the test; loopback still works."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.conftest import InternetAccessError


def test_connecting_to_a_public_address_fails() -> None:
    with socket.socket() as sock, pytest.raises(InternetAccessError):
        sock.connect(("93.184.216.34", 80))


def test_resolving_a_public_name_fails() -> None:
    with pytest.raises(InternetAccessError):
        socket.getaddrinfo("api.telegram.org", 443)


def test_loopback_still_works() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[bytes] = []

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            accepted.append(connection.recv(5))

    thread = threading.Thread(target=serve)
    thread.start()
    with socket.create_connection(("localhost", port)) as client:
        client.sendall(b"hello")
    thread.join(5)
    server.close()
    assert accepted == [b"hello"]
