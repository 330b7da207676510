"""The composition root: settings, wiring of store, engine, adapters and scheduler, and the CLI."""
