// The dialer console's one script: the chart of finals per minute by outcome. Everything
// else is server-rendered HTML with htmx for the live parts.
(function () {
  "use strict";
  var COLOURS = {
    answered: "#1e7d32", delivered: "#2e9d52", voicemail: "#7b5cc4", no_answer: "#9a6700",
    busy: "#d9822b", failed: "#b3261e", rejected: "#8c1d18", canceled: "#6b7686",
    unknown: "#4a5563", not_sent: "#9aa4b1"
  };
  var SPARE = ["#1f5fbf", "#00838f", "#ad1457", "#5d4037"];

  function colour(name, i) { return COLOURS[name] || SPARE[i % SPARE.length]; }

  function draw(box, data, previous) {
    var names = Object.keys(data.outcomes);
    var note = box.querySelector(".chart-empty");
    if (data.minutes.length === 0) {
      if (note) { note.hidden = false; }
      return previous;
    }
    if (note) { note.hidden = true; }
    var minutes = data.minutes;
    var counts = names.map(function (n) { return data.outcomes[n]; });
    if (minutes.length === 1) {
      // One minute alone is no line: the minute before it, when nothing had ended, goes first.
      minutes = [minutes[0] - 60, minutes[0]];
      counts = counts.map(function (c) { return [0, c[0]]; });
    }
    var rows = [minutes].concat(counts);
    var width = Math.max(box.clientWidth - 8, 260);
    if (previous && previous.series.length === names.length + 1) {
      previous.setData(rows);
      if (previous.width !== width) { previous.setSize({ width: width, height: 240 }); }
      return previous;
    }
    if (previous) { previous.destroy(); }
    var series = [{ label: "minute" }].concat(names.map(function (n, i) {
      return { label: n, stroke: colour(n, i), width: 2, points: { show: minutes.length < 40 } };
    }));
    var zone = box.getAttribute("data-zone") || "UTC";
    return new uPlot({
      width: width, height: 240, series: series,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), zone); },
      axes: [{}, { label: "finals per minute", size: 60 }],
      scales: { y: { range: function (u, min, max) { return [0, Math.max(max, 1)]; } } }
    }, rows, box.querySelector(".chart-area"));
  }

  function start(box) {
    var plot = null;
    var every = parseInt(box.getAttribute("data-every") || "10", 10) * 1000;
    function load() {
      if (document.hidden) { return; }
      fetch(box.getAttribute("data-src"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { plot = draw(box, data, plot); } })
        .catch(function () { /* the next turn tries again */ });
    }
    load();
    window.setInterval(load, every);
  }

  // The new-campaign form: the chosen CSV's first bytes go with the preview's request (the
  // server reads them as it reads an upload), not the whole file.
  function sampleFile(input) {
    var target = document.getElementById("sample");
    var file = input.files && input.files[0];
    if (!target || !file) { return; }
    var size = parseInt(input.getAttribute("data-sample-bytes") || "65536", 10);
    file.slice(0, size).arrayBuffer().then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      var binary = "";
      for (var i = 0; i < bytes.length; i += 8192) {
        binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
      }
      target.value = window.btoa(binary);
      document.body.dispatchEvent(new Event("sampled"));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("chart");
    if (box && window.uPlot) { start(box); }
    var file = document.getElementById("file");
    if (file && document.getElementById("sample")) {
      file.addEventListener("change", function () { sampleFile(file); });
      if (file.files && file.files.length) { sampleFile(file); }
    }
  });
})();
