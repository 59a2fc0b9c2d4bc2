"""Each panel's part of the page: its markup and its callbacks (``*_page``, ``inspect``).

Their measures and figures are in ``app.views.panels``. May import ``app.page``, ``app.views``
and ``app.runs``.
"""
