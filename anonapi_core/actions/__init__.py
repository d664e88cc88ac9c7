"""One function per user action, shared by the `anon` CLI and the dashboard.

Actions take settings and plain arguments, talk to the server through one pooled client, read and
write the user's files, and return plain dataclasses. They never print and never prompt: the caller
decides how to show a result and whether to ask first.
"""
