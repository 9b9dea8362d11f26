from __future__ import annotations

import datetime
import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from soketler.security import selfsigned
from soketler.security.fingerprints import sha256_fingerprint
from soketler.security.selfsigned import ensure_self_signed
from soketler.security.tls import TlsError


def _certificate(path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def test_made_once_then_reused(tmp_path: Path) -> None:
    first = ensure_self_signed(str(tmp_path))
    again = ensure_self_signed(str(tmp_path))
    assert first.created and not again.created
    assert first.fingerprint == again.fingerprint
    assert first.path == str(tmp_path / "tls" / "selfsigned.pem")
    cert = _certificate(first.cert_path)
    assert sha256_fingerprint(cert.public_bytes(serialization.Encoding.DER)) == first.fingerprint
    assert len(first.fingerprint_text.split(":")) == 32


def test_the_key_is_private_and_the_certificate_is_not(tmp_path: Path) -> None:
    made = ensure_self_signed(str(tmp_path))
    assert stat.S_IMODE(os.stat(made.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(made.path)).st_mode) == 0o700
    assert "PRIVATE KEY" in Path(made.path).read_text()
    assert "PRIVATE KEY" not in Path(made.cert_path).read_text()


def test_it_names_this_machine_and_serves_only_as_a_server_certificate(tmp_path: Path) -> None:
    cert = _certificate(ensure_self_signed(str(tmp_path)).cert_path)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    addresses = {str(a) for a in names.get_values_for_type(x509.IPAddress)}
    assert addresses == {"127.0.0.1", "::1"}
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime >= datetime.timedelta(days=selfsigned.VALID_DAYS)


def test_servers_starting_together_agree_on_one_certificate(tmp_path: Path) -> None:
    results: list[selfsigned.SelfSigned] = []
    start = threading.Barrier(4)

    def make() -> None:
        start.wait()
        results.append(ensure_self_signed(str(tmp_path)))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 4
    assert len({r.fingerprint for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert sorted(os.listdir(tmp_path / "tls")) == ["selfsigned.crt", "selfsigned.pem"]


def test_an_expired_one_is_replaced(tmp_path: Path) -> None:
    old = ensure_self_signed(str(tmp_path))
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=selfsigned.VALID_DAYS + 1)
    new = ensure_self_signed(str(tmp_path), now=later)
    assert new.created and new.fingerprint != old.fingerprint
    assert _certificate(new.cert_path).not_valid_after_utc > later


def test_a_damaged_file_is_reported_with_what_to_do(tmp_path: Path) -> None:
    made = ensure_self_signed(str(tmp_path))
    Path(made.path).write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n")
    with pytest.raises(TlsError) as failed:
        ensure_self_signed(str(tmp_path))
    assert failed.value.message.startswith(f"TLS: the self-signed certificate {made.path} cannot")
    assert "remove it to have a new one made" in failed.value.message


def test_a_folder_that_cannot_be_made_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(TlsError, match=r"cannot store the self-signed certificate in .*file/tls"):
        ensure_self_signed(str(blocker))


def test_the_default_place_is_the_user_data_folder(data_home: Path) -> None:
    made = ensure_self_signed()
    assert made.path == str(data_home / "soketler" / "tls" / "selfsigned.pem")
