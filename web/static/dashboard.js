// Heat map of waiting time on a service's diagram: each user task is coloured by its median wait
// (four levels relative to the longest) and labelled with it. The bpmn.io watermark stays visible.
document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("heatmap");
  const source = document.getElementById("heatmap-data");
  if (!box || !source || typeof BpmnJS === "undefined") return;
  const data = JSON.parse(source.textContent);
  const viewer = new BpmnJS({ container: box });
  try {
    await viewer.importXML(data.xml);
  } catch (err) {
    box.textContent = "Diagram tidak dapat ditampilkan / The diagram cannot be shown.";
    return;
  }
  const canvas = viewer.get("canvas");
  const overlays = viewer.get("overlays");
  const registry = viewer.get("elementRegistry");
  const hours = Object.values(data.heat);
  const longest = hours.length ? Math.max(...hours) : 0;
  const hoursLabel = document.documentElement.lang === "en" ? "h" : "jam";
  for (const [id, value] of Object.entries(data.heat)) {
    if (!registry.get(id)) continue;
    const level = longest > 0 ? Math.max(1, Math.ceil((value / longest) * 4)) : 1;
    canvas.addMarker(id, `heat-${level}`);
    const badge = document.createElement("div");
    badge.className = `heat-badge heat-${level}`;
    badge.dataset.element = id;
    badge.textContent = `${value.toFixed(1)} ${hoursLabel}`;
    overlays.add(id, "heat", { position: { bottom: 12, left: -6 }, html: badge });
  }
  canvas.zoom("fit-viewport");
  box.dataset.ready = "1";
});
