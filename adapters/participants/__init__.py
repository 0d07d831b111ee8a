"""Each framework's part in the scenarios: scripted agents on the framework's own test models,
and callers on its native remote type. Each adapter names its module (`Adapter.participant`)."""

__all__: list[str] = []
