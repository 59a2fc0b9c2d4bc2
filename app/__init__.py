"""The lossviz web app, in three packages and a few entry points (docs/architecture.md).

- ``app.runs``: the run machinery (store, jobs, workers, caps); imports neither of the others.
- ``app.views``: what the plots show and their figures; imports ``app.runs``.
- ``app.page``: the Dash page (layout, controls, callbacks, lessons); imports both.
- At the top: ``main`` (the console script), ``serve`` and ``front`` (gunicorn and its asyncio
  front), ``static`` (assets and plotly.js), ``embed`` (the app in a notebook cell),
  ``plotting`` (notebook figures) and ``dash_protocol`` (Dash's wire format, for tests and benches).
"""
