"""Modal screens: confirmations, the help, and the one-line text prompt (a reason, a passphrase)."""
