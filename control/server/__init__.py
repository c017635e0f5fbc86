"""`docscrawl serve`: the HTTP API and the web dashboard, over the same job service as the CLI.

- ``app``: the ASGI application (FastAPI), its start-up and shutdown, error handling.
- ``auth``: the API token, the dashboard's session cookie and CSRF tokens.
- ``api``: the JSON API under /api (the CLI's twin).
- ``service``: what the API and the dashboard do, over control.jobs and friends.
- ``streams``: a job's live counters as Server-Sent Events.
- ``local_crawls``: crawl processes the server starts, watches and reaps (mode "local").
- ``webhooks``: signed webhook deliveries from the job-event outbox.
- ``dashboard``: the server-rendered pages (templates/ and static/).
"""
