// The campaign editor's live check: as you type, the form goes to check.json (the same
// validator as `regie campaign validate`) and its answer fills the #live region. Without
// scripts, the "Check" button does the same with a page load.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("editor");
  var live = document.getElementById("live");
  if (!form || !live || !window.fetch) { return; }
  var timer = null;
  var asked = 0;
  var texts = JSON.parse(live.getAttribute("data-texts") || "{}");

  function item(text) {
    var li = document.createElement("li");
    li.textContent = text;
    return li;
  }

  function show(answer) {
    live.textContent = "";
    if (answer.problems.length) {
      var box = document.createElement("div");
      box.className = "error";
      box.id = "problems";
      var p = document.createElement("p");
      p.textContent = (texts.problems || "") + " " + answer.problems.length;
      box.appendChild(p);
      var list = document.createElement("ul");
      answer.problems.forEach(function (problem) {
        var where = problem.path + (problem.line ? " (" + (texts.line || "line") + " " + problem.line + ")" : "");
        list.appendChild(item(where + ": " + problem.message));
      });
      box.appendChild(list);
      live.appendChild(box);
    } else {
      var ok = document.createElement("p");
      ok.id = "checked-ok";
      ok.textContent = (texts.ok || "") + " " + answer.audience;
      live.appendChild(ok);
    }
    if (answer.timing.length) {
      var timing = document.createElement("ul");
      timing.className = "notice";
      answer.timing.forEach(function (line) { timing.appendChild(item(line)); });
      live.appendChild(timing);
    }
    if (answer.needs_approval.length) {
      var approval = document.createElement("p");
      approval.className = "notice";
      approval.textContent = texts.approval || "";
      live.appendChild(approval);
    }
    var launch = form.querySelector("button.launch");
    if (launch) { launch.disabled = !answer.ok || answer.fingerprint !== form.elements.fingerprint.value; }
  }

  function check() {
    var mine = ++asked;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.getAttribute("data-check"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": form.elements.csrf_token.value }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && mine === asked) { show(answer); }
    }).catch(function () { /* the Check button still works */ });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 600);
  });
});
