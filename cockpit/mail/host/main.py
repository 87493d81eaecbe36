"""The entry point of the host program: `inventory`, `send` or `receive`, with parameters on stdin's first line.

Every failure ends as one line on stderr; an unexpected one also leaves its traceback above that line.
"""

import contextlib
import os
import sys
import traceback
from typing import List

from cockpit.mail.host.inventory import run_inventory
from cockpit.mail.host.protocol import Fail, LineWriter, ignore_broken_pipe, read_json_line, report_failure
from cockpit.mail.host.receive import run_receive
from cockpit.mail.host.send import run_send

EXIT_GONE = 5
"""The cockpit closed our output: it went away, and nothing more can be reported."""


def main(argv: List[str]) -> int:
    mode = argv[1] if len(argv) > 1 else ""
    stdin = sys.stdin.buffer
    out = LineWriter(os.fdopen(sys.stdout.fileno(), "wb", buffering=1 << 18, closefd=False))
    try:
        params = read_json_line(stdin, "parameters")
        if not isinstance(params, dict):
            raise Fail("protocol", "no parameters from the cockpit")
        status = 0
        if mode == "inventory":
            run_inventory(params, stdin, out)
        elif mode == "send":
            run_send(params, stdin, out)
        elif mode == "receive":
            status = run_receive(params, stdin, out)
        else:
            raise Fail("protocol", "unknown mode " + repr(mode))
        out.flush()
        return status
    except Fail as failure:
        with contextlib.suppress(OSError):
            out.flush()
        return report_failure(failure.kind, failure.message)
    except BrokenPipeError:
        ignore_broken_pipe()
        return EXIT_GONE
    except Exception as exc:
        traceback.print_exc()
        return report_failure("internal", type(exc).__name__ + ": " + str(exc))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
