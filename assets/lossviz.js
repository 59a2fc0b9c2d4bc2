// Client-side helpers for lossviz: exactly-once curve streaming and the Space shortcut.
window.lossviz = {
  // Append the streamed points the graph does not have yet. `stream.start` is the index of the
  // first point sent; `cursor.n` is how many the graph holds. Duplicated or overlapping ticks
  // (an interval can fire before the last answer is back) append nothing twice.
  applyStream: function (stream, cursor) {
    var none = window.dash_clientside.no_update;
    if (!stream || !cursor || stream.run_id !== cursor.run_id) { return [none, none]; }
    var skip = cursor.n - stream.start;
    var count = stream.x[0].length - skip;
    if (skip < 0 || count <= 0) { return [none, none]; }
    var xs = [], ys = [];
    for (var i = 0; i < stream.x.length; i++) {
      xs.push(stream.x[i].slice(skip));
      ys.push(stream.y[i].slice(skip).map(function (v) { return v === null ? NaN : v; }));
    }
    return [[{x: xs, y: ys}, [0, 1, 2, 3]], {run_id: cursor.run_id, n: cursor.n + count}];
  }
};

// Space toggles train/pause, unless the user is typing in a field.
document.addEventListener("keydown", function (event) {
  if (event.code !== "Space" && event.key !== " ") { return; }
  var t = event.target, tag = (t && t.tagName) || "";
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) { return; }
  if (t && t.closest && t.closest(".ctl-dropdown, .Select, [role='listbox']")) { return; }
  var toggle = document.getElementById("button-toggle");
  if (toggle) { event.preventDefault(); toggle.click(); }
});
