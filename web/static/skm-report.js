// The report's print button (the page's styles hide the navigation and the picker when printed).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
