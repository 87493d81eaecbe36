"""Embedded servers on loopback (nameservers, SSH hosts, SMTP, senders) for the demo, rehearsals and tests."""
