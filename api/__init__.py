"""The REST API (/api/v1/) and personal API tokens: the top layer, above every other app.

Views validate input with a serializer, call the same services the browser uses, and answer with
an output serializer; errors are RFC 9457 problem details (api/errors.py).
"""
