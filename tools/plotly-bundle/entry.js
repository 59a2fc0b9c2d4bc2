'use strict';
// lossviz's plotly.js: core (which brings scatter) and the other trace types the app's figure
// builders use (app/views/*figures.py, app/views/panels/*). A trace type added to a figure must be added
// here too: tests/test_plotly_bundle.py checks that the bundle registers every one.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/contour'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/surface'),
    require('plotly.js/lib/scatter3d'),
]);

module.exports = Plotly;
