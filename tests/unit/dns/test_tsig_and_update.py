"""TSIG keys from tsig-keygen files and the environment; RFC 2136 updates against the lab primary.

The secret must never show: not in repr, str, format, error messages or update results.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from cockpit.dns.observation import Status
from cockpit.dns.query import DirectQuerier
from cockpit.dns.tsig_key import TsigKey, TsigKeyError, load_tsig_key, parse_tsig_key
from cockpit.dns.update import update_mx
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver, tsig_key
from cockpit.plan.models import Secret
from cockpit.plan.values import MxRecord
from tests.unit.dns.conftest import pair

SECRET = base64.b64encode(b"a-very-secret-tsig-key-material!").decode()
KEY_FILE = f'key "cockpit-key" {{\n\talgorithm hmac-sha256;\n\tsecret "{SECRET}";\n}};\n'
NEW = (MxRecord("mail.new-host.net.", 10),)


def _no_secret(text: str) -> None:
    assert SECRET not in text
    assert SECRET[:12] not in text


def test_parse_tsig_keygen_format() -> None:
    key = parse_tsig_key("# made by tsig-keygen\n" + KEY_FILE, "file k.key")
    assert (key.name, key.algorithm) == ("cockpit-key.", "hmac-sha256")
    assert key.dnspython_key().secret == base64.b64decode(SECRET)


def test_parse_real_tsig_keygen_output() -> None:
    if shutil.which("tsig-keygen") is None:
        pytest.skip("tsig-keygen is not installed")
    text = subprocess.run(["tsig-keygen", "-a", "hmac-sha512", "real-key"], capture_output=True, text=True, check=True)
    key = parse_tsig_key(text.stdout, "file real.key")
    assert (key.name, key.algorithm) == ("real-key.", "hmac-sha512")


def test_comment_markers_inside_a_secret_are_part_of_it() -> None:
    secret = base64.b64encode(b"\xff\xff\xff" * 11).decode()  # "////..." in base64
    assert "//" in secret
    text = f'// made by tsig-keygen\nkey "k1" {{\n\talgorithm hmac-sha256;\n\tsecret "{secret}";\n}};\n'
    assert parse_tsig_key(text, "file k.key").dnspython_key().secret == base64.b64decode(secret)
    assert parse_tsig_key(f"hmac-sha256:k1:{secret}", "env K").dnspython_key().secret == base64.b64decode(secret)


def test_dig_style_one_liner() -> None:
    assert parse_tsig_key(f"hmac-sha512:k1:{SECRET}", "env X").algorithm == "hmac-sha512"
    assert parse_tsig_key(f"k1:{SECRET}\n", "env X").algorithm == "hmac-sha256"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("hello world", "no TSIG key"),
        (KEY_FILE.replace("hmac-sha256", "hmac-sha999"), "unknown TSIG algorithm"),
        (KEY_FILE.replace(SECRET, SECRET[:-3] + "!!!"), "not valid base64"),
        (KEY_FILE + KEY_FILE.replace("cockpit-key", "other"), "holds 2 keys"),
        (KEY_FILE.replace("\talgorithm hmac-sha256;\n", ""), "has no algorithm"),
        ('key "k" { algorithm hmac-sha256; };', "has no secret"),
    ],
)
def test_bad_key_texts(text: str, message: str) -> None:
    with pytest.raises(TsigKeyError) as caught:
        parse_tsig_key(text, "file bad.key")
    assert message in str(caught.value)
    assert "bad.key" in str(caught.value)
    _no_secret(str(caught.value))


def test_load_from_file_env_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "k.key").write_text(KEY_FILE)
    assert load_tsig_key(Secret(file="k.key"), tmp_path).name == "cockpit-key."
    monkeypatch.setenv("COCKPIT_TEST_KEY", f"cockpit-key:{SECRET}")
    assert load_tsig_key(Secret(env="COCKPIT_TEST_KEY")).origin == "environment variable COCKPIT_TEST_KEY"
    with pytest.raises(TsigKeyError, match="does not exist"):
        load_tsig_key(Secret(file="missing.key"), tmp_path)
    with pytest.raises(TsigKeyError, match="is not set"):
        load_tsig_key(Secret(env="COCKPIT_TEST_KEY_UNSET"))


def test_the_secret_never_shows() -> None:
    key = parse_tsig_key(KEY_FILE, "file k.key")
    for text in (repr(key), str(key), f"{key}", f"{key!r}", f"{key:>10}", str([key]), str({"k": key})):
        _no_secret(text)
        assert "redacted" in text
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)


@pytest.fixture
async def primary():
    zone = LabZone.build("example.com", mx=[(10, "mail.old-host.net.")], serial=5)
    server = LabNameserver([zone], keys=[tsig_key("cockpit-key", SECRET)])
    async with server:
        yield server


async def _update(primary: LabNameserver, key: TsigKey | None, domain: str = "example.com", zone: str | None = None):
    return await update_mx(
        address=primary.host, port=primary.port, domain=domain, records=NEW, ttl=600, key=key, zone=zone, timeout=3
    )


async def test_update_with_the_right_key_replaces_the_mx_and_bumps_the_serial(primary: LabNameserver) -> None:
    key = parse_tsig_key(KEY_FILE, "file k.key")
    result = await _update(primary, key)
    assert result.ok and result.outcome == "NOERROR"
    assert (result.serial_before, result.serial_after) == (5, 6)
    assert "serial 5 → 6" in result.message
    querier = DirectQuerier(timeout=1)
    obs = await querier.observe(pair("example.com", primary))
    await querier.close()
    assert obs.status is Status.OK and obs.ttl == 600 and obs.mx_text() == "10 mail.new-host.net."


async def test_update_with_a_wrong_secret_is_a_bad_signature(primary: LabNameserver) -> None:
    wrong = parse_tsig_key(KEY_FILE.replace(SECRET, base64.b64encode(b"x" * 32).decode()), "file wrong.key")
    result = await _update(primary, wrong)
    assert not result.ok and result.outcome == "BADSIG"
    assert "bad signature" in result.message
    assert primary.zone("example.com").serial == 5
    _no_secret(repr(result))


async def test_update_with_an_unknown_key_name(primary: LabNameserver) -> None:
    other = parse_tsig_key(KEY_FILE.replace("cockpit-key", "stranger"), "file s.key")
    result = await _update(primary, other)
    assert (result.ok, result.outcome) == (False, "BADKEY")
    assert "does not know key 'stranger.'" in result.message


async def test_update_without_a_key_is_refused(primary: LabNameserver) -> None:
    result = await _update(primary, None)
    assert (result.ok, result.outcome) == (False, "REFUSED")
    assert "no key given" in result.message


async def test_update_of_a_zone_not_served_is_notauth(primary: LabNameserver) -> None:
    key = parse_tsig_key(KEY_FILE, "file k.key")
    result = await _update(primary, key, domain="example.org")
    assert (result.ok, result.outcome) == (False, "NOTAUTH")


async def test_update_to_a_closed_port_is_a_network_failure() -> None:
    key = parse_tsig_key(KEY_FILE, "file k.key")
    result = await update_mx(
        address="127.0.0.1", port=1, domain="example.com", records=NEW, ttl=600, key=key, timeout=2
    )
    assert (result.ok, result.outcome) == (False, "NETWORK")
    assert "cannot reach" in result.message
