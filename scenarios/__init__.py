"""Cross-framework scenarios."""

__all__: list[str] = []
