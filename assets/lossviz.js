// Client-side helpers for lossviz: ticks that wait for their answers, exactly-once curve
// streaming and the Space shortcut.

// Dash's renderer drops the answer of a callback call that a newer call of the same callback
// overtook: with a clock faster than the server's answers, a page would apply few or none of
// them. So every request a tick fires is counted from when it is sent until its answer is in
// (whatever the answer: data, 204 or an error), and the tick's gate lets the next tick through
// only when none is out. A request lost without an answer is given up on after GIVE_UP_MS.
// A component's props as Dash holds them now (undefined before the layout is in).
function lossvizProps(id) {
  var api = window.dash_component_api, c = api && api.getLayout && api.getLayout(id);
  return c && c.props;
}

var LOSSVIZ_TICKS = (function () {
  var GIVE_UP_MS = 45000, ARMED_MS = 2000, APPLY_MS = 30;
  var out = {}, armed = {};  // tick id -> {request number: sent at}; tick id -> gate fired at
  var next = 0, send = window.fetch.bind(window);
  function tickOf(url, opts) {
    var body = opts && opts.body;
    if (typeof body !== "string" || String(url).indexOf("_dash-update-component") < 0) { return null; }
    var m = body.match(/"changedPropIds":\[([^\]]*)\]/);
    if (!m) { return null; }
    for (var id in armed) {
      if (m[1].indexOf('"' + id + '.n_intervals"') >= 0) { return id; }
    }
    return null;
  }
  window.fetch = function (url, opts) {
    var id = tickOf(url, opts);
    if (id === null) { return send(url, opts); }
    var n = next++;
    (out[id] = out[id] || {})[n] = Date.now();
    delete armed[id].at;
    var done = function () { delete out[id][n]; };
    var answer = send(url, opts);
    // Out until Dash has read and applied the answer, not when its headers arrive: a tick sent
    // between the two would overtake it, and Dash would drop it. Dash reads the body with
    // json() after this handler (registered first) has wrapped it; the tick counts as answered
    // a moment after the body is parsed, once Dash's own handlers have run.
    answer.then(function (res) {
      if (!res || res.status !== 200 || typeof res.json !== "function") { done(); return; }
      var json = res.json.bind(res);
      res.json = function () {
        return json().then(function (data) { setTimeout(done, APPLY_MS); return data; },
                           function (err) { done(); throw err; });
      };
      setTimeout(done, GIVE_UP_MS);  // a body never read
    }, done);
    return answer;
  };
  return {
    // True when ``id``'s last tick still has a request out (or was let through but has not
    // sent its requests yet); then the clock's tick is skipped.
    busy: function (id) {
      var now = Date.now(), a = armed[id] || (armed[id] = {});
      if (a.at && now - a.at < ARMED_MS) { return true; }
      var sent = out[id] || {};
      for (var n in sent) {
        if (now - sent[n] < GIVE_UP_MS) { return true; }
        delete sent[n];
      }
      a.at = now;
      return false;
    }
  };
})();

// The training tick, sent straight to its server callback and applied with one set_props per
// changed property (the clock's "direct": the callback's output and states, and where each of
// lossviz.applyStream's results goes: app/page/run_callbacks.py, STREAM_STATE and STREAM_APPLY).
// Through Dash's renderer a tick was a set_props, a server callback, a store update and a
// client-side callback, and that bookkeeping (every store change notifies every component of a
// page of ~280) cost ~80 ms of main thread per tick, four times the curves' own redraw: a busy
// page fell to a curve point every few seconds. One request is out at a time; the next waits
// until this one's answer is applied (and the graph has had a frame to take its points).
var LOSSVIZ_STREAM = (function () {
  var GIVE_UP_MS = 45000, APPLY_MS = 30, sentAt = null;
  var prefix = "/";
  try { prefix = JSON.parse(document.getElementById("_dash-config").textContent).requests_pathname_prefix || "/"; }
  catch (e) { /* the default prefix */ }
  function data(id, prop) { var p = lossvizProps(id); return p ? p[prop] : undefined; }
  function setAll(updates) {  // {id: {prop: value}} from the answer's side updates (a message)
    Object.keys(updates || {}).forEach(function (id) { window.dash_clientside.set_props(id, updates[id]); });
  }
  // True when the graph ``id`` shows ``runId``'s curves (app/page/run_control.py fresh_curves
  // marks them) with every trace ``indices`` names: a new run's figure is drawn a moment after
  // the page gets it, and points extended into the old one would be lost with it.
  function drawnFor(id, runId, indices) {
    var gd = document.querySelector("#" + id + " .js-plotly-plot"), meta = gd && gd.layout && gd.layout.meta;
    var need = Math.max.apply(null, indices.concat([0])) + 1;
    return !!gd && !!meta && meta.run_id === runId && (gd.data || []).length >= need;
  }
  function apply(direct, answer) {
    if (!answer) { return; }
    var out = (answer.response || {})[direct.output[0]], stream = out && out[direct.output[1]];
    setAll(answer.sideUpdate);
    if (stream === undefined) { return; }
    var results = window.lossviz.applyStream(stream, data(direct.state[1][0], direct.state[1][1]),
                                             data(direct.state[0][0], direct.state[0][1]));
    var none = window.dash_clientside.no_update;
    if (results[0] !== none && !drawnFor(direct.apply[0][0], stream.run_id, results[0][1])) {
      results[0] = results[1] = none;  // its figure is not drawn yet: the points come again next tick
    }
    direct.apply.forEach(function (target, i) {
      if (results[i] === none) { return; }
      var props = {}; props[target[1]] = results[i];
      window.dash_clientside.set_props(target[0], props);
    });
  }
  return {
    busy: function () { return sentAt !== null && Date.now() - sentAt < GIVE_UP_MS; },
    send: function (direct, tick, n) {
      var body = {
        output: direct.output.join("."), outputs: {id: direct.output[0], property: direct.output[1]},
        inputs: [{id: tick, property: "n_intervals", value: n}], changedPropIds: [tick + ".n_intervals"],
        state: direct.state.map(function (s) { return {id: s[0], property: s[1], value: data(s[0], s[1])}; })
      };
      var mine = sentAt = Date.now();
      var done = function () { if (sentAt === mine) { setTimeout(function () { if (sentAt === mine) { sentAt = null; } }, APPLY_MS); } };
      window.fetch(prefix + "_dash-update-component", {
        method: "POST", credentials: "same-origin", body: JSON.stringify(body),
        headers: {"Accept": "application/json", "Content-Type": "application/json"}
      }).then(function (res) { return res.status === 200 ? res.json() : null; })
        .then(function (answer) { if (sentAt === mine) { apply(direct, answer); } })
        .then(done, done);
    }
  };
})();

// A graph that is not on screen (a hidden panel's, B's outside compare mode: 13 of the page's 17
// at first) is drawn when it comes on screen, not while it is hidden: a dozen such first draws
// came in one go a few seconds after the page opened and held a slow page's main thread for most
// of a second (3 s at a quarter of a core), while a run it had just started streamed its curves;
// and a plot laid out with no size puts its axis titles at infinity (console errors). Every
// figure a waiting graph is given meanwhile resolves with its one draw, with the newest figure.
window.lossvizOnPlotly = function (Plotly) {
  var react = Plotly.react, waiting = [];
  function hidden(gd) { return gd && gd.nodeType === 1 && gd.offsetParent === null; }
  Plotly.react = function (gd) {
    var self = this, args = arguments;
    if (!hidden(gd)) { return LOSSVIZ_LOAD.timed(gd, function () { return react.apply(self, args); }); }
    return new Promise(function (resolve, reject) {
      var w = waiting.filter(function (x) { return x.gd === gd; })[0];
      if (!w) { waiting.push(w = {gd: gd, done: []}); }
      w.args = args; w.self = self;
      w.done.push([resolve, reject]);
    });
  };
  setInterval(function () {
    waiting = waiting.filter(function (w) {
      if (!w.gd.isConnected) { return false; }
      if (hidden(w.gd)) { return true; }
      Promise.resolve(react.apply(w.self, w.args)).then(
        function (v) { w.done.forEach(function (d) { d[0](v); }); },
        function (e) { w.done.forEach(function (d) { d[1](e); }); });
      return false;
    });
  }, 200);
};

// The learning curves' axes stop at a bound (a loss 10× its start, R² below −1: app/framing.py);
// each bound has a note ("offchart yaxis max"), transparent until a curve passes the bound. After
// every plot (streamed points, a new figure) the curves are checked and the passed notes shown by
// a style rule: restyling the graph itself would make it apply its streamed points once more.
var LOSSVIZ_OFF_CHART = (function () {
  var style = null, css = "";
  function passed(gd) {
    var out = [];
    ((gd.layout && gd.layout.annotations) || []).forEach(function (note, k) {
      var m = /^offchart (yaxis\d*) (max|min)$/.exec(note.name || "");
      if (!m) { return; }
      var bounds = (gd.layout[m[1]] || {}).autorangeoptions || {}, axis = "y" + m[1].slice(5);
      var hit = (gd.data || []).some(function (t) {
        return (t.yaxis || "y") === axis && Array.prototype.some.call(t.y || [], function (v) {
          return m[2] === "max" ? v > bounds.clipmax : v < bounds.clipmin;
        });
      });
      if (hit) { out.push('#graph-curves .annotation[data-index="' + k + '"] { opacity: 1 !important; }'); }
    });
    return out.join("\n");
  }
  function sync(gd) {
    var now = passed(gd);
    if (now === css) { return; }
    if (!style) { style = document.createElement("style"); document.head.appendChild(style); }
    style.textContent = css = now;
  }
  return {
    watch: function () {
      var gd = document.querySelector("#graph-curves .js-plotly-plot");
      if (!gd || gd._lossvizOffChart || typeof gd.on !== "function") { return; }
      gd._lossvizOffChart = true;
      gd.on("plotly_afterplot", function () { sync(gd); });
      sync(gd);
    }
  };
})();

// How busy the page's main thread has been: a page drawing on a slow or crowded laptop spends
// most of its time in long tasks (plotly redraws). Its view ticks then come less often, so the
// training ticks (the curves and the status) keep their turn.
var LOSSVIZ_LOAD = (function () {
  var WINDOW_MS = 2000, tasks = [];  // [end, duration] of the last long tasks, ms
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) { tasks.push([e.startTime + e.duration, e.duration]); });
    }).observe({entryTypes: ["longtask"]});
  } catch (e) { /* no long-task timing: never throttled */ }
  // A 3-D view costs a page 4-8 times a 2-D plot's draw (software WebGL more): before its first,
  // the 2-D plots' draws tell what it would cost, and until two have been measured it is taken
  // to be slow (a Train pressed as the page opens drew the first 3-D view in the run's first
  // second: 1 s of main thread, 3 s on a crowded laptop, while the curves waited).
  var SLOW_2D_MS = 160, last3dMs = null, last2dMs = [], costs = {}, recent = {};
  return {
    // ``draw()``: a plot's draw (Plotly.react), returning its promise; how long it took is kept,
    // by the graph's id: the median of its last three draws, to 50 ms (what the page tells the
    // server then changes only when it matters).
    timed: function (gd, draw) {
      var start = performance.now(), box = gd && gd.parentElement, drawn = draw();
      Promise.resolve(drawn).then(function () {
        var ms = performance.now() - start, traces = gd.data || [];
        if (!traces.length) { return; }
        if (box && box.id) {
          var last = (recent[box.id] = (recent[box.id] || []).concat([ms]).slice(-3)).slice().sort(function (a, b) { return a - b; });
          costs[box.id] = 50 * Math.round(last[Math.floor((last.length - 1) / 2)] / 50);
        }
        if (traces.some(function (t) { return t.type === "surface"; })) { last3dMs = ms; }
        else if (!(gd._fullLayout && gd._fullLayout.scene)) { last2dMs = last2dMs.concat([ms]).slice(-5); }
      }, function () {});
      return drawn;
    },
    // What the page's last draw of each graph took it, ms by graph id.
    costs: function () { return costs; },
    // Before the page's first 3-D view: true when it would likely be slow to draw (a slow or
    // crowded laptop, software WebGL), or when that is not known yet: the median of the last
    // 2-D draws took over SLOW_2D_MS, or fewer than two were measured.
    slowBefore3d: function () {
      var sorted = last2dMs.slice().sort(function (a, b) { return a - b; });
      return last3dMs === null && (sorted.length < 2 || sorted[Math.floor((sorted.length - 1) / 2)] > SLOW_2D_MS);
    },
    // The share of the last two seconds the main thread spent in long tasks, 0..1.
    busyShare: function () {
      var now = performance.now(), sum = 0;
      tasks = tasks.filter(function (t) { return now - t[0] < WINDOW_MS; });
      tasks.forEach(function (t) { sum += Math.min(t[1], WINDOW_MS); });
      return Math.min(1, sum / WINDOW_MS);
    }
  };
})();

// The page's timer. The clocks (app.ids: dcc.Intervals switched on and off by callbacks, never
// firing) are read every POLL_MS, outside Dash: a tick costs the page a Dash update only when it
// is passed on. A clock's tick goes to its tick interval (for the view clock, the tick of the
// view on screen: hidden views ask nothing) once a period has passed since the last one and none
// of the last tick's requests is still out; while the page's main thread is busy more than half
// the time, view ticks come at most every VIEW_BUSY_MS, so the curves do not wait behind redraws.
(function () {
  var POLL_MS = 25, VIEW_BUSY_MS = 3000;
  var next = {}, count = {}, viewPassed = 0, loadSent = "";
  var props = lossvizProps;
  function poll() {
    var config = props("store-clocks"), now = Date.now();
    var clocks = (config && config.data) || {}, busy = LOSSVIZ_LOAD.busyShare() > 0.5;
    // What the views' requests read (app/views/drawing.py): whether the page is busy, and what
    // its last draw of each graph cost it; a live run's views come no more often than that allows.
    var load = {busy: busy || LOSSVIZ_LOAD.slowBefore3d(), ms: LOSSVIZ_LOAD.costs()}, text = JSON.stringify(load);
    Object.keys(clocks).forEach(function (id) {
      var store = clocks[id].busy;
      if (store && text !== loadSent && props(store)) {
        loadSent = text;
        window.dash_clientside.set_props(store, {data: load});
      }
    });
    Object.keys(clocks).forEach(function (id) {
      var c = clocks[id], p = props(id);
      if (!p || p.disabled) { delete next[id]; return; }
      if (next[id] === undefined) { next[id] = now + c.ms; }  // as dcc.Interval: one period after it starts
      if (now < next[id]) { return; }
      var tick = c.ticks[0];
      if (c.views) {
        var shown = props(c.view);
        tick = c.ticks[Math.max(0, c.views.indexOf(shown && shown.value))];
        if (busy && now - viewPassed < VIEW_BUSY_MS) { return; }
      }
      if (c.direct ? LOSSVIZ_STREAM.busy() : LOSSVIZ_TICKS.busy(tick)) { return; }
      next[id] = now + c.ms;
      if (c.views) { viewPassed = now; }
      count[tick] = (count[tick] || 0) + 1;
      if (c.direct) { LOSSVIZ_STREAM.send(c.direct, tick, count[tick]); return; }
      window.dash_clientside.set_props(tick, {n_intervals: count[tick]});
    });
  }
  setInterval(function () {
    try { poll(); } catch (e) { /* the page is still loading */ }
  }, POLL_MS);
})();

window.lossviz = {
  // True while the train clock ``id`` is switched on (a run trains, or is about to).
  training: function (id) { var p = lossvizProps(id); return !!p && p.disabled === false; },

  // Resolves with ``value`` once the page's main thread has been mostly idle for a moment (at most
  // CALM_WAIT_MS from now), or with no_update when any of the graphs ``ids`` already shows traces
  // or a run has started training (the run's own views, drawn when the page can afford them, are
  // newer than what was waiting).
  whenCalm: function (value, ids, trainClock) {
    var none = window.dash_clientside.no_update, start = Date.now(), CALM_WAIT_MS = 10000;
    return new Promise(function (resolve) {
      (function look() {
        var drawn = ids.some(function (id) {
          var gd = document.querySelector("#" + id + " .js-plotly-plot");
          return gd && gd.data && gd.data.length > 0;
        });
        if (drawn || window.lossviz.training(trainClock)) { resolve(none); return; }
        var waited = Date.now() - start;
        if ((waited > 300 && LOSSVIZ_LOAD.busyShare() < 0.35) || waited > CALM_WAIT_MS) { resolve(value); return; }
        setTimeout(look, 150);
      })();
    });
  },

  // Apply one training tick's answer, if the page still shows that run.
  //   stream: {run_id, runs: [{start, x, y}] (A, then B in compare mode), status, done, seq,
  //   version}; cursor: {run_id, n: [points the graph holds per run]}; run: {run_id, running,
  //   seq} = what the page is showing, and the number of the last command it sent.
  // Returns [extendData, cursor, status, run, train interval disabled, view interval disabled].
  // Points are appended exactly once (a cursor), whatever order answers arrive in. An answer about an older command (a tick that lands after Pause,
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
        LOSSVIZ_OFF_CHART.watch();
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

// Presentation mode: the figures come from the server at desk size; on a projector every plot
// gets larger text and heavier lines. Applied after each full draw (a new figure from the
// server brings the desk sizes back, and is enlarged again), undone when the mode is left.
(function () {
  var BIG = 18, LINE_SCALE = 1.6;
  function present() { return document.body.classList.contains("present"); }
  function widths(gd, scale) {
    var idx = [], w = [];
    (gd.data || []).forEach(function (t, i) {
      if (t.type === "scatter" && t.line && t.line.width) { idx.push(i); w.push(t.line.width * scale); }
    });
    return idx.length ? window.Plotly.restyle(gd, {"line.width": w}, idx) : null;
  }
  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }
  // Every text size a figure may set on its own: the global font, the title, the legend, each
  // 2-D axis's ticks and title, each 3-D scene axis, the annotations; and in the traces the
  // colour bars and contour labels. Each is raised to BIG (never lowered); the desk values are
  // kept on the plot so leaving presentation mode puts them back.
  function layoutKeys(gd) {
    var L = gd.layout || {}, keys = ["font.size", "title.font.size", "legend.font.size", "hoverlabel.font.size"];
    Object.keys(L).forEach(function (k) {
      if (/^[xy]axis\d*$/.test(k)) { keys.push(k + ".tickfont.size", k + ".title.font.size"); }
      if (/^scene\d*$/.test(k)) {
        ["xaxis", "yaxis", "zaxis"].forEach(function (a) {
          keys.push(k + "." + a + ".tickfont.size", k + "." + a + ".title.font.size");
        });
      }
    });
    (L.annotations || []).forEach(function (_, i) { keys.push("annotations[" + i + "].font.size"); });
    return keys;
  }
  var TRACE_KEYS = ["colorbar.tickfont.size", "colorbar.title.font.size", "contours.labelfont.size",
                    "textfont.size"];
  function enlarge(gd) {
    var full = gd._fullLayout, desk = {layout: {}, traces: {}}, up = {}, restyles = [];
    layoutKeys(gd).forEach(function (k) {
      var path = k.replace(/\[(\d+)\]/g, ".$1"), now = get(full, path);
      // A log axis labels its 2s and 5s at 3/4 of its tick size: those must reach BIG too.
      var axis = path.split(".")[0], want = /tickfont/.test(k) && get(full, axis + ".type") === "log" ? BIG * 4 / 3 : BIG;
      if (typeof now === "number" && now < want) { desk.layout[k] = get(gd.layout, path); up[k] = want; }
    });
    (gd._fullData || []).forEach(function (t, i) {
      TRACE_KEYS.forEach(function (k) {
        var now = get(t, k);
        if (typeof now === "number" && now < BIG) {
          (desk.traces[k] = desk.traces[k] || {})[i] = get(gd.data[i], k);
          restyles.push([k, i]);
        }
      });
    });
    // Ticks at BIG need room: at most one tick label per 2.2 BIG of a y axis, per 4 BIG of an x
    // axis (compare mode's narrow plots ran their enlarged labels together).
    Object.keys(full).forEach(function (axis) {
      var ax = full[axis];
      if (!/^[xy]axis\d*$/.test(axis) || !ax || !ax._length || ax.tickmode === "array") { return; }
      var most = Math.max(2, Math.floor(ax._length / (BIG * (axis.charAt(0) === "y" ? 2.2 : 4))));
      if (!ax.nticks || ax.nticks > most) { desk.layout[axis + ".nticks"] = get(gd.layout, axis + ".nticks"); up[axis + ".nticks"] = most; }
    });
    gd._lossvizDesk = desk;
    var steps = [window.Plotly.relayout(gd, up)];
    restyles.forEach(function (r) { var o = {}; o[r[0]] = BIG; steps.push(window.Plotly.restyle(gd, o, [r[1]])); });
    return Promise.all(steps);
  }
  function restore(gd) {
    var desk = gd._lossvizDesk || {layout: {}, traces: {}}, steps = [], back = {};
    Object.keys(desk.layout).forEach(function (k) { back[k] = desk.layout[k] === undefined ? null : desk.layout[k]; });
    steps.push(window.Plotly.relayout(gd, back));
    Object.keys(desk.traces).forEach(function (k) {
      Object.keys(desk.traces[k]).forEach(function (i) {
        var o = {}; o[k] = desk.traces[k][i] === undefined ? null : desk.traces[k][i];
        steps.push(window.Plotly.restyle(gd, o, [Number(i)]));
      });
    });
    gd._lossvizDesk = null;
    return Promise.all(steps);
  }
  function apply(gd, on) {
    if (!window.Plotly || !gd._fullLayout || gd._lossvizBusy) { return; }
    // A hidden plot (another view's, or B's outside compare mode) is left alone: laid out with
    // no height, plotly.js computes its axis titles at infinity. It is enlarged when it is next
    // drawn on screen (plotly_afterplot).
    if (on && (gd.offsetParent === null || gd.clientHeight < 40)) { return; }
    // Enlarged: its text is at BIG now (a new figure from the server comes at desk size, and
    // is enlarged again; restoring a plot drawn anew since is harmless).
    var big = !!gd._lossvizDesk && (get(gd._fullLayout, "font.size") || 0) >= BIG;
    if (on === big) { return; }
    gd._lossvizBusy = true;
    var done = function () { gd._lossvizBusy = false; };
    Promise.resolve(widths(gd, on ? LINE_SCALE : 1 / LINE_SCALE))
      .then(function () { return on ? enlarge(gd) : restore(gd); })
      .then(done, done);
  }
  function hook(gd) {
    if (gd._lossvizHooked || !gd.on) { return; }
    gd._lossvizHooked = true;
    gd.on("plotly_afterplot", function () { if (present()) { apply(gd, true); } });
    if (present()) { apply(gd, true); }
  }
  // A page opened in presentation mode (?present=1) lays its text boxes out at 18 px while Dash
  // mounts them, and Chromium then drew some of them with no box at all (the learning-rate,
  // batch and epoch fields stayed empty until their style changed). A style change on every
  // text field after the switch (and after the page's first callbacks) gives each its box.
  function reboxInputs() {
    document.querySelectorAll(".dash-input-element").forEach(function (e) {
      if (e.getClientRects().length) { return; }
      e.style.display = "none"; void e.offsetHeight; e.style.display = "";
    });
  }
  window.lossvizPresent = function (on) {
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) { hook(gd); apply(gd, on); });
    [0, 300, 1500, 4000].forEach(function (ms) { setTimeout(reboxInputs, ms); });
  };
  // Every second: hook new plots, and enlarge a plot that came on screen without being drawn
  // again (a section opened, a view shown with its figure unchanged).
  setInterval(function () {
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      hook(gd);
      if (present()) { apply(gd, true); }
    });
  }, 1000);
})();
