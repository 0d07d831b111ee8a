"""One module per framework; each serves its agents over A2A and wraps remote agents natively.

Import the module you need (`a2a_bridges.adapters.pydantic_ai`, `.langchain`, `.ag2`,
`.ag2_next`, `.functions`); this package imports none of them, so no framework is required.
"""

__all__: list[str] = []
