"""A message's identity: what stores change on their own does not change it, anything else does."""

from __future__ import annotations

from cockpit.mail.host.identity import message_identity, quote_from, unquote_from
from cockpit.mail.host.mbox_format import mbox_flags, rewrite_header, status_headers

BASE = b"From: alice@example.com\nTo: bob@example.com\nSubject: hello\nMessage-ID: <m1@example.com>\n\nHi Bob,\n\nFrom the desk of Alice.\n"


def digest(raw: bytes) -> str:
    return message_identity(raw)[1]


def test_message_id_is_read_unfolded() -> None:
    assert message_identity(BASE)[0] == "<m1@example.com>"
    folded = b"Subject: x\nMessage-ID:\n  <folded@example.com>\n\nbody\n"
    assert message_identity(folded)[0] == "<folded@example.com>"
    assert message_identity(b"message-id: <lower@x>\n\nb\n")[0] == "<lower@x>"


def test_line_endings_do_not_change_identity() -> None:
    assert digest(BASE.replace(b"\n", b"\r\n")) == digest(BASE)


def test_one_level_of_from_quoting_does_not_change_identity() -> None:
    assert digest(quote_from(BASE)) == digest(BASE)
    assert b">From the desk" in quote_from(BASE)
    assert digest(unquote_from(quote_from(BASE))) == digest(BASE)
    already = BASE.replace(b"From the desk", b">From the desk")
    assert digest(already) == digest(BASE)
    assert digest(BASE.replace(b"From the desk", b">>From the desk")) != digest(BASE)


def test_trailing_blank_lines_do_not_change_identity() -> None:
    assert digest(BASE + b"\n\n") == digest(BASE)
    assert digest(BASE.rstrip(b"\n")) == digest(BASE)


def test_mbox_bookkeeping_headers_do_not_change_identity() -> None:
    head, body = BASE.split(b"\n\n", 1)
    marked = (
        head + b"\nStatus: RO\nX-Status: AF\nX-Keywords: $Label1\n\tcontinued\nX-UID: 17\nContent-Length: 40\n"
        b"X-IMAPbase: 1 2\n\n" + body
    )
    assert digest(marked) == digest(BASE)
    assert digest(marked.replace(b"Status: RO", b"Status: O")) == digest(BASE)


def test_other_changes_change_identity() -> None:
    assert digest(BASE.replace(b"hello", b"hullo")) != digest(BASE)
    assert digest(BASE.replace(b"Hi Bob", b"Hi Rob")) != digest(BASE)
    assert digest(BASE.replace(b"Subject: hello\n", b"Subject: hello\nX-Spam: yes\n")) != digest(BASE)


def test_same_message_id_different_messages_are_two() -> None:
    other = BASE.replace(b"Hi Bob", b"Dear Bob")
    assert message_identity(other)[0] == message_identity(BASE)[0]
    assert digest(other) != digest(BASE)


def test_no_message_id_still_has_an_identity() -> None:
    plain = b"Subject: no id\n\nbody\n"
    message_id, found = message_identity(plain)
    assert message_id == ""
    assert len(found) == 32
    assert found == digest(plain)
    assert digest(b"Subject: no id\n\nother body\n") != found


def test_empty_body_and_header_only_messages() -> None:
    assert digest(b"Subject: empty\n\n") == digest(b"Subject: empty\n")
    assert digest(b"") == digest(b"\n")
    assert digest(b"\nbody only\n") != digest(b"body only\n")


def test_eight_bit_and_encoded_headers_are_bytes_as_they_are() -> None:
    raw = "Subject: Grüße\nMessage-ID: <ü@x>\n\nÄ\n".encode()
    encoded = b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nMessage-ID: <x@x>\n\nx\n"
    assert message_identity(raw)[0] == "<ü@x>"
    assert digest(raw) != digest(raw.replace("ü".encode(), b"u"))
    assert message_identity(encoded)[0] == "<x@x>"


def test_header_changes_made_by_conversions_keep_identity() -> None:
    with_status = rewrite_header(BASE, (b"status", b"x-status"), status_headers("FRS", "cur", b"\n"))
    assert b"Status: RO\n" in with_status
    assert b"X-Status: FA\n" in with_status
    assert digest(with_status) == digest(BASE)
    assert rewrite_header(with_status, (b"status", b"x-status"), b"") == BASE
    crlf = BASE.replace(b"\n", b"\r\n")
    assert b"Status: O\r\n" in rewrite_header(crlf, (b"status",), status_headers("", "cur", b"\r\n"))


def test_mbox_status_converts_like_the_mailbox_module() -> None:
    import mailbox

    for status, xstatus in (("RO", "AF"), ("O", ""), ("", "D"), ("R", "FA"), ("", "")):
        raw = b"Subject: s\nStatus: " + status.encode() + b"\nX-Status: " + xstatus.encode() + b"\n\nb\n"
        theirs = mailbox.MaildirMessage(mailbox.mboxMessage(raw))
        assert mbox_flags(raw) == (theirs.get_flags(), theirs.get_subdir())
