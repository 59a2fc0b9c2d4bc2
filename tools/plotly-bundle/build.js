// Builds ../../assets/vendor/plotly-lossviz.min.js: `npm ci && node build.js`.
// Settings follow plotly.js's own esbuild-config.js; the map CSS that core pulls in is dropped
// (no map traces here).
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const out = path.join(__dirname, '..', '..', 'assets', 'vendor', 'plotly-lossviz.min.js');
const version = require('plotly.js/package.json').version;

esbuild.build({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: out,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    banner: {js: `/* plotly.js v${version} (MIT License, https://plot.ly/javascript/) - lossviz bundle: ` +
                  'scatter, bar, contour, heatmap, surface, scatter3d */'},
    alias: {regl: '@plotly/regl', stream: 'stream-browserify'},
    define: {global: 'window', 'define.amd': 'false'},
    target: 'es2016',
    logLevel: 'info',
}).then(() => {
    fs.rmSync(out.replace(/\.js$/, '.css'), {force: true});
}).catch(() => process.exit(1));
