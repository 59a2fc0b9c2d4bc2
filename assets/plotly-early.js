// Start loading plotly.js with the page's first scripts instead of when the first graph mounts
// (after the layout has come and rendered): the browser compiles it off the main thread while
// the page waits for its layout. dcc.Graph loads plotly.js itself unless window.Plotly is set;
// until plotly.js runs (and sets window.Plotly to itself), window.Plotly is a promise of it,
// which dcc.Graph waits for, so the file is never loaded twice.
(function () {
  if (window.Plotly) { return; }
  var prefix = "/";
  try { prefix = JSON.parse(document.getElementById("_dash-config").textContent).requests_pathname_prefix || "/"; }
  catch (e) { /* the default prefix */ }
  var script = document.createElement("script");
  script.src = prefix + "_dash-component-suites/plotly/package_data/plotly.min.js";
  script.async = true;
  var loaded = new Promise(function (resolve, reject) {
    script.onload = function () {
      if (window.lossvizOnPlotly) { window.lossvizOnPlotly(window.Plotly); }  // assets/lossviz.js
      resolve(window.Plotly);
    };
    script.onerror = function (e) { delete window.Plotly; reject(e); };
  });
  window.Plotly = {then: loaded.then.bind(loaded)};
  document.head.appendChild(script);
})();
