"""Tests talk to this machine only: conftest's guard refuses any other address in this process, and
Chromium (tools/browser.py) resolves no name but loopback and the classroom's test name.

Nothing leaves the machine even if a guard is broken: the real connect is a stub here, names are not
looked up, and the browser is asked only for names that would otherwise resolve to loopback.
"""
import asyncio
import functools
import http.server
import os
import socket
import threading
import urllib.request
from pathlib import Path

import httpx
import pytest

import conftest
from tools.browser import CHROMIUM, CHROMIUM_FLAGS, CHROMIUM_MISSING, CLASSROOM_HOST


@pytest.fixture
def reached(monkeypatch):
    """The addresses that reached the real connect, a stub now; names are never looked up.

    The refusals go to a list of this test's own, so the guard does not fail the test for them.
    """
    reached = []
    for method in (socket.socket.connect, socket.socket.connect_ex):
        monkeypatch.setattr(method, "__wrapped__", lambda sock, address: reached.append(address))
    real_getaddrinfo = socket.getaddrinfo

    def numbers_only(host, port, family=0, type=0, proto=0, flags=0):
        return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)

    monkeypatch.setattr(socket, "getaddrinfo", numbers_only)
    monkeypatch.setattr(conftest, "REFUSED", [])
    return reached


def plain_connect(address):
    with socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET) as sock:
        sock.connect(address)


def connect_ex(address):
    with socket.socket() as sock:
        sock.connect_ex(address)


def asyncio_connect(address):
    asyncio.run(asyncio.open_connection(*address))


WAYS = {  # how a test might connect: each ends in the guarded socket calls
    "connect": plain_connect, "connect_ex": connect_ex, "create_connection": lambda address: socket.create_connection(address),
    "urllib": lambda address: urllib.request.urlopen(f"http://{address[0]}:{address[1]}/"),
    "httpx (gradio_client)": lambda address: httpx.get(f"http://{address[0]}:{address[1]}/"),
    "asyncio": asyncio_connect,
}


@pytest.mark.parametrize("way", WAYS)
def test_a_connection_off_this_machine_is_refused_before_it_is_made(reached, way):
    with pytest.raises(conftest.OffLoopback, match="192.0.2.1"):
        WAYS[way](("192.0.2.1", 80))  # a documentation-only address
    assert reached == [] and conftest.REFUSED == [("192.0.2.1", 80)]


@pytest.mark.parametrize("address", [("2001:db8::1", 80), ("example.com", 80), (CLASSROOM_HOST, 80)])
def test_other_addresses_and_every_name_but_localhost_are_refused(reached, address):
    with pytest.raises(conftest.OffLoopback):
        (plain_connect if ":" in address[0] else socket.create_connection)(address)
    assert reached == [] and conftest.REFUSED == [address]


def test_a_connection_to_this_machine_goes_through(reached):
    plain_connect(("127.0.0.1", 80))
    plain_connect(("::1", 80))
    connect_ex(("127.0.0.2", 80))
    assert reached == [("127.0.0.1", 80), ("::1", 80), ("127.0.0.2", 80)] and conftest.REFUSED == []


def test_a_datagram_socket_may_ask_for_its_route(reached):
    """``local_addresses`` connects a UDP socket to learn the room's interface; that sends nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("10.255.255.255", 1))
    assert reached == [("10.255.255.255", 1)] and conftest.REFUSED == []


def test_gradio_and_its_clients_report_to_no_one():
    """Set before gradio and huggingface_hub were imported: the latter reads its switch then."""
    from huggingface_hub import constants

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False" and constants.HF_HUB_DISABLE_TELEMETRY


@pytest.fixture
def loopback_server(tmp_path):
    """An HTTP server of an empty folder on 127.0.0.1; yields its port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=CHROMIUM_MISSING)
def test_chromium_resolves_loopback_and_the_classroom_name_only(loopback_server):
    """Chromium itself sends ``*.localhost`` to loopback, so refusing it proves the rules without traffic elsewhere."""
    from playwright.sync_api import Error, sync_playwright

    port = loopback_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            for host, secure in (("127.0.0.1", True), ("localhost", True), (CLASSROOM_HOST, False)):
                assert page.goto(f"http://{host}:{port}/").ok
                assert page.evaluate("window.isSecureContext") is secure, "a classroom phone's origin is insecure"
            with pytest.raises(Error, match="ERR_NAME_NOT_RESOLVED"):
                page.goto(f"http://elsewhere.localhost:{port}/")
        finally:
            browser.close()
