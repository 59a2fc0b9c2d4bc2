// Client-side helpers for lossviz: exactly-once curve streaming and the Space shortcut.
window.lossviz = {
  // Apply one training tick's answer, if the page still shows that run.
  //   stream: {run_id, runs: [{start, x, y}] (A, then B in compare mode), status, done, seq,
  //   version}; cursor: {run_id, n: [points the graph holds per run]}; run: {run_id, running,
  //   seq} = what the page is showing, and the number of the last command it sent.
  // Returns [extendData, cursor, status, run, train interval disabled, view interval disabled].
  // Points are appended exactly once: an interval can fire before the last answer is back, so
  // answers may overlap. An answer about an older command (a tick that lands after Pause,
  // Reset or new settings) changes nothing but the curve points of its own run; the page stops
  // asking once the server has acknowledged its last command and nothing is training.
  applyStream: function (stream, cursor, run) {
    var none = window.dash_clientside.no_update;
    var out = [none, none, none, none, none, none];
    if (!stream || !run || stream.run_id !== run.run_id) { return out; }
    if (cursor && stream.run_id === cursor.run_id && Array.isArray(cursor.n)) {
      // Run i's traces are 4i..4i+3 (train loss, test loss, train metric, test metric).
      var xs = [], ys = [], idx = [], counts = cursor.n.slice(), any = false;
      for (var r = 0; r < stream.runs.length && r < cursor.n.length; r++) {
        var s = stream.runs[r], skip = cursor.n[r] - s.start, count = s.x[0].length - skip;
        if (skip < 0 || count <= 0) { continue; }
        for (var i = 0; i < s.x.length; i++) {
          xs.push(s.x[i].slice(skip));
          ys.push(s.y[i].slice(skip).map(function (v) { return v === null ? NaN : v; }));
          idx.push(4 * r + i);
        }
        counts[r] = cursor.n[r] + count;
        any = true;
      }
      if (any) {
        out[0] = [{x: xs, y: ys}, idx];
        out[1] = {run_id: cursor.run_id, n: counts};
      }
    }
    if (stream.seq !== (run.seq || 0)) { return out; }
    out[2] = stream.status;
    if (stream.done) {
      out[3] = Object.assign({}, run, {running: false, version: stream.version});
      out[4] = true;
      out[5] = true;
    }
    return out;
  }
};

// Keys (not while typing in a field): Space play/pause, S step, R reset, C compare on/off,
// left/right previous/next lesson.
var LOSSVIZ_KEYS = {
  " ": "button-toggle", "s": "button-step", "r": "button-reset",
  "ArrowLeft": "button-lesson-prev", "ArrowRight": "button-lesson-next"
};
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) { return; }
  var t = event.target, tag = (t && t.tagName) || "";
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) { return; }
  if (t && t.closest && t.closest(".ctl-dropdown, .Select, [role='listbox'], .dash-dropdown, [role='slider'], " +
                                  ".rc-slider, .dash-slider, [role='radio'], [role='tab']")) { return; }
  var key = event.code === "Space" ? " " : (event.key.length === 1 ? event.key.toLowerCase() : event.key);
  if (key === "c") {
    var box = document.querySelector("#checklist-compare input");
    if (box) { event.preventDefault(); box.click(); }
    return;
  }
  var target = LOSSVIZ_KEYS[key] && document.getElementById(LOSSVIZ_KEYS[key]);
  if (target) { event.preventDefault(); target.click(); }
});
