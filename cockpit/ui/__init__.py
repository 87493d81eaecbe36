"""The full-screen face of a run: a Textual app fed by the engine's event stream, driving its command API."""
