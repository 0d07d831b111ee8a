"""One module per framework; each serves its agents over A2A and wraps remote agents natively.

Import the module you need (`adapters.pydantic_ai`, `adapters.langchain`, `adapters.ag2`,
`adapters.functions`); this package imports none of them, so no framework is required.
"""

__all__: list[str] = []
