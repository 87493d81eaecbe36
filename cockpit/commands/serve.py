"""`cockpit serve PLAN`: `cockpit observe PLAN` in browsers (textual-serve), for colleagues who have no shell on
this machine. Loopback by default; any other address needs a token."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shlex
import sys

import click

from cockpit.commands.common import fail, say
from cockpit.commands.observe import check_journal, locate
from cockpit.engine.exit_codes import EXIT_BAD_INPUT

TOKEN_ENV = "COCKPIT_SERVE_TOKEN"
MIN_TOKEN = 16


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.argument("plan", type=click.Path(path_type=str))
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (not loopback: needs a token)."
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--token", metavar="T", help=f"Required of every request (or ${TOKEN_ENV}); at least {MIN_TOKEN} characters."
)
@click.option("--tls-cert", metavar="FILE", help="Serve over HTTPS with this PEM certificate (chain); needs --tls-key.")
@click.option("--tls-key", metavar="FILE", help="The certificate's PEM private key, unencrypted; needs --tls-cert.")
def serve(plan: str, host: str, port: int, token: str | None, tls_cert: str | None, tls_key: str | None) -> None:
    """Serve the read-only observer of PLAN's run to browsers. Each browser gets its own `cockpit observe PLAN`;
    nothing served can change the run. Ctrl+C stops serving (the run goes on)."""
    observed = locate(plan)
    check_journal(observed.journal)
    from_env = token is None and bool(os.environ.get(TOKEN_ENV))
    if token is None:
        token = os.environ.get(TOKEN_ENV) or None
    os.environ.pop(TOKEN_ENV, None)  # the observers this serves need no token: keep it out of their environment
    if token is not None and len(token) < MIN_TOKEN:
        fail(f"cockpit serve: the token is too short ({len(token)} characters): use at least {MIN_TOKEN}, e.g. from "
             "`openssl rand -hex 16`")  # fmt: skip
    if token is None and not is_loopback(host):
        fail(f"cockpit serve: --host {host} is not a loopback address, so anyone who reaches it would watch the "
             f"run: give a token (--token T or ${TOKEN_ENV}), or serve on 127.0.0.1 and reach it through an SSH "
             "tunnel")  # fmt: skip
    if (tls_cert is None) != (tls_key is None):
        fail("cockpit serve: HTTPS needs both --tls-cert and --tls-key")
    from cockpit.ui.web_serve import ObserverServer, TlsFilesError, tls_context

    tls = None
    if tls_cert is not None and tls_key is not None:
        try:
            tls = tls_context(tls_cert, tls_key)
        except TlsFilesError as exc:
            fail(f"cockpit serve: {exc}")
    elif not is_loopback(host):
        say("cockpit serve: note: without --tls-cert and --tls-key the token and the screen cross the network "
            "unencrypted; give them, or serve on 127.0.0.1 through an SSH tunnel", err=True)  # fmt: skip
    command = f"{shlex.quote(sys.executable)} -m cockpit observe {shlex.quote(str(observed.plan_file.path))}"
    title = f"mx-cockpit · {observed.plan_file.plan.name}"
    server = ObserverServer(command, host=host, port=port, title=title, token=token, tls=tls)

    def started(url: str) -> None:
        if token is None:
            say(f"serving the observer of {observed.plan_file.path} on {url} — open it in a browser; Ctrl+C stops")
            return
        where = f"${TOKEN_ENV}" if from_env else "the --token value"
        say(f"serving the observer of {observed.plan_file.path} on {url} — open {url}?token=TOKEN in a browser "
            f"(TOKEN: {where}); Ctrl+C stops")  # fmt: skip

    try:
        asyncio.run(server.run(started))
    except OSError as exc:
        fail(f"cockpit serve: cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    say("stopped serving (the run goes on)")
