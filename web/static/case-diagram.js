// Draw a case's diagram read-only and mark its done, active and overdue elements.
document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("case-diagram");
  if (!box || typeof BpmnJS === "undefined") return;
  const response = await fetch(box.dataset.src, { credentials: "same-origin" });
  if (!response.ok) return;
  const state = await response.json();
  const viewer = new BpmnJS({ container: box });
  try {
    await viewer.importXML(state.xml);
  } catch (err) {
    box.textContent = "Diagram tidak dapat ditampilkan / The diagram cannot be shown.";
    return;
  }
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const mark = (ids, cls) => ids.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, cls); });
  mark(state.done, "mpp-done");
  mark(state.active, "mpp-active");
  mark(state.overdue, "mpp-overdue");
  canvas.zoom("fit-viewport");
  box.dataset.ready = "1";
});
