"""skcomplexity: learn how hard a task is for LLMs and route it to the cheapest capable model."""

__version__ = "0.1.0.dev0"
