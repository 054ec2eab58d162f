// Move keyboard and screen-reader focus to the error summary when a form comes back with errors;
// a link in the summary moves focus to its field's input (the first choice of a group of choices).
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("error-summary");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const target = link && document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!target) return;
    const input = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    if (!input) return;
    event.preventDefault();
    target.scrollIntoView({ block: "center" });
    input.focus();
  });
});
