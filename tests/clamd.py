"""A real clamd for the attachment tests, with a signature database the tests write.

clamd refuses to start without a signature file, and Debian's full database takes a minute
and hundreds of megabytes to load. So each test session (each xdist worker) writes one body
signature, ``.ndb``, for the EICAR test string at any offset of any file, and starts clamd on
a Unix socket of its own in a temporary folder: it is ready in well under a second.

Use it by importing the fixture into a test module: ``from clamd import clamd_socket``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
# The EICAR test file (https://www.eicar.org): not a virus, detected by every scanner as one.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Madoguchi-Test-EICAR"


def _config(folder: Path) -> str:
    return "\n".join(
        [
            f"LocalSocket {folder / 'clamd.sock'}",
            f"DatabaseDirectory {folder / 'db'}",
            f"TemporaryDirectory {folder}",
            f"PidFile {folder / 'clamd.pid'}",
            f"LogFile {folder / 'clamd.log'}",
            "Foreground yes",
            "StreamMaxLength 64M",
            "SelfCheck 3600",
            "",
        ]
    )


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(str(path))
            sock.sendall(b"zPING\x00")
            return sock.recv(16).startswith(b"PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The Unix socket of a clamd that knows one signature: EICAR, anywhere in a file."""
    if not Path(CLAMD).exists():
        pytest.fail(
            "clamd is needed for the attachment tests: apt-get install clamav-daemon "
            "(the tests start it themselves, with their own test signature)"
        )
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    (folder / "db" / "test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    conf = folder / "clamd.conf"
    conf.write_text(_config(folder))
    output = folder / "clamd.out"
    with open(output, "wb") as out:
        process = subprocess.Popen([CLAMD, "-c", str(conf)], stdout=out, stderr=out)
    sock = folder / "clamd.sock"
    deadline = time.monotonic() + 30
    while not _answers(sock):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"clamd did not start:\n{output.read_text(errors='replace')}")
        time.sleep(0.05)  # polling the socket until clamd answers, at most 30 s
    yield sock
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
