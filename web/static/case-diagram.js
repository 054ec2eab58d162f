// Draw a case's diagram read-only and mark its done, active and overdue elements. A wide diagram
// (PBG has nine lanes) is unreadable in the side column, so an "enlarge" button opens it in a
// dialog almost as large as the window, with zoom and pan by mouse, buttons and keyboard.
const english = document.documentElement.lang === "en";
const t = (id, en) => (english ? en : id);

async function draw(container, state) {
  const viewer = new BpmnJS({ container });
  await viewer.importXML(state.xml);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const mark = (ids, cls) => ids.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, cls); });
  mark(state.done, "mpp-done");
  mark(state.active, "mpp-active");
  mark(state.overdue, "mpp-overdue");
  canvas.zoom("fit-viewport");
  return canvas;
}

function button(label, text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small secondary";
  b.textContent = text;
  if (label !== text) b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

// Arrow keys pan, + and - zoom, 0 fits: the canvas itself only pans with Ctrl/Cmd held.
function keyboardControls(surface, canvas) {
  const step = 80;
  surface.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (moves[event.key]) {
      canvas.scroll({ dx: moves[event.key][0], dy: moves[event.key][1] });
    } else if (event.key === "+" || event.key === "=") {
      canvas.zoom(canvas.zoom() * 1.25);
    } else if (event.key === "-") {
      canvas.zoom(canvas.zoom() / 1.25);
    } else if (event.key === "0") {
      canvas.zoom("fit-viewport");
    } else {
      return;
    }
    event.preventDefault();
  });
}

function enlargeDialog(state, opener) {
  const dialog = document.createElement("dialog");
  dialog.className = "diagram-dialog";
  dialog.id = "case-diagram-dialog";
  dialog.setAttribute("aria-labelledby", "case-diagram-dialog-h");
  const heading = document.createElement("h2");
  heading.id = "case-diagram-dialog-h";
  heading.textContent = t("Diagram proses", "Process diagram");
  const hint = document.createElement("p");
  hint.className = "muted";
  hint.id = "case-diagram-dialog-hint";
  hint.textContent = t("Geser dengan mouse atau tombol panah; perbesar dengan roda mouse, + dan −; 0 menyesuaikan layar; Esc menutup.",
    "Pan with the mouse or the arrow keys; zoom with the wheel, + and −; 0 fits the window; Esc closes.");
  const surface = document.createElement("div");
  surface.className = "diagram diagram-large";
  surface.id = "case-diagram-large";
  surface.tabIndex = 0;
  surface.setAttribute("role", "group");
  surface.setAttribute("aria-label", t("Diagram proses (diperbesar)", "Process diagram (enlarged)"));
  surface.setAttribute("aria-describedby", hint.id);
  const tools = document.createElement("div");
  tools.className = "diagram-tools";
  const box = document.createElement("article");  // Pico draws a dialog's <article> as its window
  box.append(heading, hint, tools, surface);
  dialog.append(box);
  document.body.append(dialog);
  let canvas = null;
  tools.append(
    button(t("Perbesar", "Zoom in"), "+", () => canvas && canvas.zoom(canvas.zoom() * 1.25)),
    button(t("Perkecil", "Zoom out"), "−", () => canvas && canvas.zoom(canvas.zoom() / 1.25)),
    button(t("Sesuaikan layar", "Fit to window"), t("Sesuaikan layar", "Fit to window"),
      () => canvas && canvas.zoom("fit-viewport")),
    button(t("Tutup", "Close"), t("Tutup", "Close"), () => dialog.close()),
  );
  dialog.addEventListener("close", () => opener.focus());
  return async () => {
    dialog.showModal();
    if (!canvas) {
      canvas = await draw(surface, state);
      keyboardControls(surface, canvas);
      surface.dataset.ready = "1";
    } else {
      canvas.resized();
      canvas.zoom("fit-viewport");
    }
    surface.focus();
  };
}

document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("case-diagram");
  if (!box || typeof BpmnJS === "undefined") return;
  const response = await fetch(box.dataset.src, { credentials: "same-origin" });
  if (!response.ok) return;
  const state = await response.json();
  try {
    await draw(box, state);
  } catch (err) {
    box.textContent = "Diagram tidak dapat ditampilkan / The diagram cannot be shown.";
    return;
  }
  if (typeof HTMLDialogElement === "function") {
    const opener = button(t("Perbesar diagram", "Enlarge the diagram"), t("Perbesar diagram", "Enlarge the diagram"),
      () => open());
    opener.id = "case-diagram-enlarge";
    opener.className = "small";
    const open = enlargeDialog(state, opener);
    (box.closest("figure") || box).after(opener);
  }
  box.dataset.ready = "1";
});
