// Fills "Accessed …" in the citation with today's date; without JavaScript a placeholder stays.
document.querySelectorAll(".cite-today").forEach(function (el) {
  el.textContent = new Date().toISOString().slice(0, 10);
});
