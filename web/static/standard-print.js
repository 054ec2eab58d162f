// The print button of the Standar Pelayanan and Maklumat Pelayanan pages.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
