"""The Dash page: its markup, its controls and links, and the callbacks that tie it together.

Owns the component ids (``ids``), the control table (``controls``) and compare mode's fields
(``compare``), the link table (``state``), the layout, the callbacks and what they do with runs
(``callbacks``, ``run_control``), the first figures a page is sent (``first_page``), errors shown
as messages (``messages``), the request guard (``guard``, ``ratelimit``), the lessons
(``lessons``, ``lessons.toml``) and what a lesson may claim (``claims``, ``claims_more``), and each
panel's part of the page (``panels``).

May import: ``app.runs``, ``app.views``, the engine, dash and flask. Nothing imports the page
but the app's entry points (``app.main``, ``app.embed``).
"""
