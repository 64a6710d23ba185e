"""zhiku over the Model Context Protocol: `zhiku mcp` (stdio) and `/mcp` on `zhiku serve`."""
