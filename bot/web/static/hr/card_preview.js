// Draws each Teams card of a campaign preview with Microsoft's Adaptive Cards renderer
// (vendored: ../vendor/adaptivecards/). The card's JSON is in the element's data-card
// attribute; without scripts the JSON itself stays on the page.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (typeof AdaptiveCards === "undefined") { return; }
  document.querySelectorAll("[data-card]").forEach(function (box) {
    try {
      var card = new AdaptiveCards.AdaptiveCard();
      card.parse(JSON.parse(box.getAttribute("data-card")));
      var drawn = card.render();
      if (!drawn) { return; }
      drawn.setAttribute("role", "group");
      box.textContent = "";
      box.appendChild(drawn);
      box.classList.add("drawn");
    } catch (error) {
      box.classList.add("not-drawn");
    }
  });
});
