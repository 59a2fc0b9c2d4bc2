"""What the plots show: computed from a run, then drawn as plain-dict figures.

Owns what the engine computes for a view (``compute``: landscape planes, data views, the line
between two runs), the figure builders (pure functions from arrays to dicts: ``figures``, the
shared look and the learning curves; ``landscape_figures``; ``data_figures``), what a plot
frames (``framing``), which plots to redraw and how little to send (``drawing``,
``drawing_compare``), the downloads (``exports``) and each panel's measures and figures
(``panels``).

May import: ``app.runs`` (runs, the store, caps), the engine, plotly-shaped dicts and dash's
``Patch``/``no_update`` (the drawing's answers). Never ``app.page``: the page calls the views.
"""
