// "Periksa NIK" by fetch: send only the NIK and the name, show the verdict in the live region.
// Without this script the button posts the whole form and the page comes back with the result;
// with it the button stops being a submit button, so Enter in a field still files the application.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector(".nik-check");
  if (!box) return;
  const button = box.querySelector("button");
  const result = document.getElementById("nik-check-result");
  const form = button.form;
  const meta = document.querySelector("meta[name=csrf-token]");
  const english = document.documentElement.lang === "en";
  const failed = english ? "The NIK cannot be checked now; the application can still be sent."
                         : "NIK tidak dapat diperiksa saat ini; permohonan tetap dapat dikirim.";
  const waiting = english ? "Checking the NIK…" : "Memeriksa NIK…";
  button.type = "button";
  button.addEventListener("click", async () => {
    const body = new FormData();
    body.append("csrf_token", meta ? meta.content : "");
    body.append("nik", (form.elements.namedItem("nik") || {}).value || "");
    const nameField = box.dataset.nameField;
    body.append(nameField, (form.elements.namedItem(nameField) || {}).value || "");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    result.className = "";
    result.dataset.verdict = "";
    result.textContent = waiting;
    try {
      const response = await fetch(box.dataset.url, {
        method: "POST", body, credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRF-Token": meta ? meta.content : ""},
      });
      const answer = await response.json();
      result.dataset.verdict = answer.verdict;
      result.className = answer.verdict === "match" ? "nik-match" : "nik-other";
      result.textContent = answer.message || failed;
    } catch (error) {
      result.dataset.verdict = "unavailable";
      result.className = "nik-other";
      result.textContent = failed;
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.focus();
    }
  });
});
