"""Plangate's client: the `plangate` command, its hook mode and its MCP server.

It talks to a Plangate server over HTTP only (httpx) and never imports the server's code, so it
installs on an agent's machine with `pip install ./client` and nothing else.
"""

__version__ = "0.1.0"
