// A campaign's live status: Server-Sent Events from .../events update the counts while its
// messages go out; when sending stops, the page reloads once to show the report's new
// figures. Without scripts, reloading the page shows the same.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("live-status");
  if (!box || !window.EventSource) { return; }
  var wasGoing = box.getAttribute("data-going") === "yes";
  var source = new EventSource(box.getAttribute("data-events"));
  source.onmessage = function (event) {
    var live = JSON.parse(event.data);
    ["sent", "to_send", "retrying", "dead", "held", "in_console", "later"].forEach(function (key) {
      var cell = document.getElementById("live-" + key);
      if (cell) { cell.textContent = String(live[key]); }
    });
    document.getElementById("live-line").textContent = live.line;
    var meter = document.getElementById("live-meter");
    meter.value = live.percent;
    meter.textContent = live.percent + "%";
    box.setAttribute("data-going", live.going ? "yes" : "no");
    if (live.going) { wasGoing = true; }
    if (wasGoing && !live.going) {
      source.close();
      window.location.reload();
    }
  };
});
