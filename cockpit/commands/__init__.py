"""The subcommands of `cockpit`, one module each; cli.py assembles them."""
