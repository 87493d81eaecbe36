"""The line-printing front-end of a run: events as lines on stdout, answers from stdin, signals, the terminal's
passphrase prompt. It drives nothing of the engine but through the run's command API, like the full screen."""
