"""Panels' building blocks: the measures, text and figures of one part of the page each.

May import ``app.views`` and ``app.runs``; never ``app.page`` (where each panel's markup and
callbacks live, in ``app.page.panels``).
"""
