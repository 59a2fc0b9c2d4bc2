"""Component ids, kind first (``dropdown-loss``, ``graph-surface``): one place to look them up."""

# Run settings: each maps to one field of lossviz.RunConfig (see app/page/controls.py).
DATASET = "dropdown-dataset"
NOISE = "input-noise"
SAMPLES = "input-samples"
OUTLIERS = "input-outliers"
LAYERS = "dropdown-layers"
WIDTH = "input-width"  # pattern-matching: {"type": WIDTH, "index": i}
ACTIVATION = "dropdown-activation"
LOSS = "dropdown-loss"
HUBER_DELTA = "input-huber-delta"
LABEL_SMOOTHING = "input-label-smoothing"
OPTIMIZER = "dropdown-optimizer"
MOMENTUM = "input-momentum"
LR = "input-lr"
LR_SLIDER = "slider-lr"
BATCH = "input-batch"
EPOCHS = "input-epochs"
L2 = "input-l2"
L1 = "input-l1"
SEED = "input-seed"

# Compare mode: run B differs from run A in one setting.
COMPARE = "checklist-compare"
COMPARE_FIELD = "dropdown-compare-field"
COMPARE_CHOICE = "dropdown-compare-choice"  # B's value picked from a registry
COMPARE_VALUE = "input-compare-value"  # B's value typed (numbers, widths)
COMPARE_ERROR = "text-compare-error"
COMPARE_ROWS = "box-compare-rows"
STORE_COMPARE = "store-compare"

# Rows that show only when they apply.
ROW = "row"  # pattern-matching: {"type": ROW, "index": field}
LOSS_NOTE = "text-loss-note"

# Run control.
TRAIN = "button-train"
PAUSE = "button-pause"
STEP = "button-step"
RESET = "button-reset"
TOGGLE = "button-toggle"  # hidden: pressed by the Space key
SPEED = "radio-speed"

# View options (never recompute a surface).
GRID = "slider-grid"
RANGE = "input-range"
RANGE_BOX = "box-range"  # the Range box and its tooltip (off in compare mode)
LOG_Z = "checklist-log-z"
DISPLAY = "radio-display"
DIRECTIONS = "radio-directions"
NORMALIZATION = "dropdown-normalization"  # random directions: per filter, per layer or none
BOX_NORMALIZATION = "box-normalization"  # shown only while the plane is random
LOG_LOSS = "checklist-log-loss"
SURFACE_OF = "dropdown-surface-of"  # what the landscape shows: the training loss, a yardstick, accuracy

# Outputs.
STATUS = "text-status"
CONFIG_ERROR = "text-config-error"
VIEW_ERROR = "text-view-error"
GRAPH_CONTOUR = "graph-contour"
GRAPH_SURFACE = "graph-surface"
GRAPH_CURVES = "graph-curves"
GRAPH_DATA = "graph-data"
BOX_CONTOUR = "box-contour"
BOX_SURFACE = "box-surface"
LANDSCAPE_NOTE = "text-landscape-note"
GRAPH_CONTOUR_B = "graph-contour-b"  # compare mode: run B's loss on the shared plane
GRAPH_DATA_B = "graph-data-b"
BOX_CONTOUR_B = "box-contour-b"
BOX_DATA_B = "box-data-b"
PLOTS = "box-plots"
LESSON = "dropdown-lesson"
LESSON_PREV = "button-lesson-prev"
LESSON_NEXT = "button-lesson-next"
STORE_LESSON_STEPS = "store-lesson-steps"  # the ◀/▶ presses already applied (a press is never lost)
LESSON_TEXT = "text-lesson"
STORE_LESSON = "store-lesson"  # a lesson's short-lived note: "I just set these" (defaults wait)
URL = "location-url"
COPY_LINK = "button-copy-link"
PRESENT = "checklist-present"  # presentation mode
APP = "box-app"
STORE_PRESENT = "store-present"
LINK_NOTE = "text-link-note"
STORE_RESTORED = "store-restored"  # the page has read its link (then the link follows the controls)
STORE_INSPECT = "store-inspect"  # a clicked landscape point whose network the data view shows
BACK = "button-back"  # back to the current networks in the data views
GRAPH_LINE = "graph-line"  # compare mode: the straight line from A's weights to B's
BOX_LINE = "box-line"
PAGE_VIEW = "radio-page-view"  # the plots, or the "Why the loss matters" panel
BOX_WHY = "box-why"
WHY_TITLE_A = "text-why-title-a"
WHY_TITLE_B = "text-why-title-b"
WHY_FORMULA_A = "markdown-why-formula-a"
WHY_FORMULA_B = "markdown-why-formula-b"
WHY_BOX_B = "box-why-b"
GRAPH_PROFILE = "graph-loss-profile"
GRAPH_GRADIENTS = "graph-gradients"

# Timers and client-side state.
# The page's ticks. CLOCK_TRAIN / CLOCK_VIEW are dcc.Intervals that never fire themselves
# (max_intervals=0): the callbacks only switch them on and off, and a timer in assets/lossviz.js
# reads them (STORE_CLOCKS says which clock feeds which tick, and how often). It passes a tick on
# to INTERVAL_TRAIN, or to the view on screen's tick, only when the last tick's requests are all
# answered, so a slow answer is never overtaken, and so never dropped, by the next tick; and the
# clocks cost the page no Dash update while a tick waits.
CLOCK_TRAIN = "clock-train"
CLOCK_VIEW = "clock-view"
STORE_CLOCKS = "store-clocks"
INTERVAL_TRAIN = "interval-train"
INTERVAL_VIEW = "interval-view"
# A view tick goes only to the view on screen (the plots or one panel; app.layout.VIEW_TICKS).
INTERVAL_VIEW_WHY = "interval-view-why"
INTERVAL_VIEW_CURVATURE = "interval-view-curvature"
INTERVAL_VIEW_SURFACES = "interval-view-surfaces"
STORE_CONFIG = "store-config"
STORE_RUN = "store-run"
# The page's run, passed on to a panel's callbacks only while that panel shows (app.page.run_gates):
# hidden panels send no request when the run changes.
STORE_RUN_WHY = "store-run-why"
STORE_RUN_CURVATURE = "store-run-curvature"
STORE_RUN_SURFACES = "store-run-surfaces"
STORE_RUN_CONVEXITY = "store-run-convexity"  # only while a convexity map exists (a new run clears it)
STORE_STREAM = "store-stream"
STORE_CURSOR = "store-cursor"
STORE_DRAWN = "store-drawn"
STORE_FIRST = "store-first"  # which first figures the page asks for (app.page.first_page), or None
STORE_FIRST_3D = "store-first-3d"  # set once the first contour is sent: then the 3-D view is asked for
STORE_FIRST_3D_CALM = "store-first-3d-calm"  # the same, once the page is not busy drawing (assets/lossviz.js)
STORE_FIRST_FIGURES = "store-first-figures"  # those figures, drawn if no run has started training meanwhile
# How the page copes (set by the page's timer): {"busy": its main thread mostly in long tasks,
# "ms": {graph id: what its last draw took the page, ms}}; a live run's views come no more often
# than their cost to the page allows, the 3-D view not at all while it is busy (app/views/drawing.py).
STORE_PAGE_BUSY = "store-page-busy"
STORE_SESSION = "store-session"  # this page's session secret: its runs answer only to it

# Export (app/page/panels/export_page.py).
EXPORT = "export"  # pattern {"type": EXPORT, "kind": one of export_page.DOWNLOADS}
EXPORT_PLOT = "dropdown-export-plot"
EXPORT_PNG = "button-export-png"
EXPORT_SVG = "button-export-svg"
EXPORT_NOTE = "text-export-note"
DOWNLOAD = "download-export"

# Curvature panel (app/page/panels/curvature_page.py).
BOX_CURVATURE = "box-curvature"
GRAPH_SHARPNESS = "graph-sharpness"
CURVATURE_NOTE = "text-curvature-note"
INTERVAL_CURVATURE = "interval-curvature"
RESCALE_FACTOR = "dropdown-rescale-factor"  # "sharpness is not invariant" (app/page/panels/rescale_page.py)
RESCALE_BUTTON = "button-rescale"
RESCALE_RESULT = "text-rescale-result"
BOX_FORKS = "box-forks"  # forked runs and the barrier between them (app/page/panels/forks_page.py)
FORKS_BUTTON = "button-forks"
FORKS_NOTE = "text-forks-note"
GRAPH_FORKS = "graph-forks"
BOX_BEST_RATE = "box-best-rate"  # compare mode: each run at its best learning rate (app/panels/best_rate_page.py)
BEST_RATE_BUTTON = "button-best-rate"
BEST_RATE_NOTE = "text-best-rate-note"
GRAPH_BEST_RATES = "graph-best-rates"
GRAPH_BEST_CURVES = "graph-best-curves"

# Surfaces panel (app/page/panels/surfaces_page.py).
BOX_SURFACES = "box-surfaces"
GRAPH_LOSS_ACCURACY = "graph-loss-accuracy"
GRAPH_TRAIN_TEST = "graph-train-test"
GRAPH_INIT_LINE = "graph-init-line"
GRAPH_CONVEXITY = "graph-convexity"
CONVEXITY_BUTTON = "button-convexity"
CONVEXITY_PROGRESS = "progress-convexity"
CONVEXITY_TEXT = "text-convexity"
INTERVAL_CONVEXITY = "interval-convexity"
STORE_CONVEXITY = "store-convexity"
SURFACES_NOTE = "text-surfaces-note"

# Your own data (app/page/panels/upload_page.py).
UPLOAD = "upload-csv"
UPLOAD_LABEL = "dropdown-upload-label"  # which column is the label
UPLOAD_NOTE = "text-upload-note"  # what was read and done, or what is wrong with the file
STORE_UPLOAD_FILE = "store-upload-file"  # the file as the browser read it (the one big request)
STORE_UPLOAD = "store-upload"  # the table's hash, file name and columns (small)
