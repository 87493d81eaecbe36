"""The SSH key passphrase asked on the controlling terminal, for headless runs and `check --online`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import termios

MAX_PASSPHRASE = 4096


async def terminal_passphrase(what: str) -> str | None:
    """Ask for an SSH key's passphrase on the controlling terminal (never echoed, never kept); None without one.

    Read on the event loop, not in a thread: a signal that stops the run cancels the question at once (a
    thread blocked in getpass would hold the process until Enter), and the terminal's echo is restored."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    prompt = what if what.lower().startswith("passphrase") else f"passphrase for {what}"
    loop = asyncio.get_running_loop()
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        os.close(fd)
        return None
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | termios.ECHONL)
    answer = bytearray()
    done: asyncio.Future[bool] = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(fd, 1024)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if not done.done():
                done.set_result(False)
            return
        answer.extend(data)
        if (b"\n" in data or len(answer) > MAX_PASSPHRASE) and not done.done():
            done.set_result(True)

    try:
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
        os.write(fd, f"{prompt}: ".encode())
        os.set_blocking(fd, False)
        loop.add_reader(fd, readable)
        try:
            complete = await done
        finally:
            loop.remove_reader(fd)
            with contextlib.suppress(OSError):
                os.write(fd, b"\n")
    except OSError:
        complete = False
    finally:
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
        os.close(fd)
    text = bytes(answer).split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    answer[:] = bytes(len(answer))
    return text if complete and text else None
