"""The embedded IDIS-compatible anonymization server.

`app` serves the IDIS functions over a `store` (SQLAlchemy Core: jobs, users, projects, shares,
opt-outs); `shares` and `source_paths` are the only way from a client's UNC path to a local file;
`worker` processes claim and run jobs through the `deid` engine; `runner` starts API and workers;
`admin` holds the operations behind `anon-server`. Importing this package imports none of them.
"""
