// Heat map of waiting time on a service's diagram: each user task is coloured by its median wait
// (the level the server computed on a scale of real hours, admin/charts.py) and labelled with it.
// The bpmn.io watermark stays visible.
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
  const hoursLabel = document.documentElement.lang === "en" ? "h" : "jam";
  for (const [id, value] of Object.entries(data.heat)) {
    if (!registry.get(id)) continue;
    const level = data.levels[id] || 1;
    canvas.addMarker(id, `heat-${level}`);
    // A badge links to the cases at its step (the staff case list, filtered), when the server gave a link.
    const link = (data.links || {})[id];
    const badge = document.createElement(link ? "a" : "div");
    if (link) {
      badge.href = link;
      badge.title = document.documentElement.lang === "en" ? "Cases at this step" : "Kasus di tahapan ini";
    }
    badge.className = `heat-badge heat-${level}`;
    badge.dataset.element = id;
    badge.textContent = `${value.toFixed(1)} ${hoursLabel}`;
    overlays.add(id, "heat", { position: { bottom: 12, left: -6 }, html: badge });
  }
  canvas.zoom("fit-viewport");
  box.dataset.ready = "1";
});
