"""Plangate's client: the `plangate` command, its hook mode and its MCP server."""
