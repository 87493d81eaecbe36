"""One module per step kind; each exposes a class with one `run(ctx)` coroutine returning a result line."""
