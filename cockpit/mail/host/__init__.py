"""The program the mail steps run on each host with the host's own python3 (3.6 or newer, stdlib only).

These modules are shipped together as one compressed source on every call (see `cockpit.mail.host_bundle`),
so nothing is installed on a host. They avoid everything newer than Python 3.6: no dataclasses, no walrus,
no `from __future__ import annotations`, annotations written with `typing`. Inside the bundle the modules
share one namespace: imports between them are dropped, so top-level names must be unique across them.
"""
