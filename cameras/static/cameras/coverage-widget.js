// The admin's coverage editor (cameras/widgets.py): a Leaflet map over the coverage textarea.
// A classic script (Django admin loads form media that way); Leaflet's UMD build gives the global L.
(function () {
  "use strict";

  const DIGITS = 6; // about 10 cm: finer than anyone can click

  function round(value) {
    return Number(value.toFixed(DIGITS));
  }

  function parse(text) {
    try {
      const value = JSON.parse(text || "[]");
      return Array.isArray(value) ? value.filter((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite)) : [];
    } catch (error) {
      return null; // not JSON: leave the textarea alone, the form will say what is wrong
    }
  }

  function field(name) {
    return document.getElementById(`id_${name}`);
  }

  function number(name) {
    const input = field(name);
    const value = input && input.value.trim() !== "" ? Number(input.value) : NaN;
    return Number.isFinite(value) ? value : null;
  }

  function setUp(editor) {
    const textarea = document.getElementById(editor.dataset.for);
    const options = JSON.parse(editor.dataset.map);
    const lat = number("latitude");
    const lng = number("longitude");
    const center = lat !== null && lng !== null ? [lat, lng] : options.center;
    const map = L.map(editor.querySelector(".coverage-map"), { center, zoom: lat !== null ? 18 : 12 });
    if (options.tileUrl) L.tileLayer(options.tileUrl, { attribution: options.tileAttribution, maxZoom: 19 }).addTo(map);

    let points = parse(textarea.value) || [];
    const drawn = L.polygon([], { color: "#b3122e", interactive: false, className: "coverage-drawn" }).addTo(map);
    const computed = L.polygon([], { color: "#1f2937", dashArray: "4 4", interactive: false, className: "coverage-computed" }).addTo(map);
    const camera = L.marker(center, { icon: L.divIcon({ className: "coverage-camera", iconSize: [10, 10] }), interactive: false });
    const vertices = L.layerGroup().addTo(map);
    const summary = editor.querySelector(".coverage-summary");

    function write() {
      textarea.value = points.length ? JSON.stringify(points) : "[]";
      textarea.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function draw() {
      drawn.setLatLngs(points);
      vertices.clearLayers();
      points.forEach((point, index) => {
        const marker = L.marker(point, {
          draggable: true, icon: L.divIcon({ className: "coverage-vertex", iconSize: [12, 12] }),
          title: `Corner ${index + 1}`,
        });
        marker.on("drag", () => {
          const where = marker.getLatLng();
          points[index] = [round(where.lat), round(where.lng)];
          drawn.setLatLngs(points);
        });
        marker.on("dragend", () => { write(); draw(); });
        vertices.addLayer(marker);
      });
      editor.dataset.vertices = String(points.length);
      summary.textContent = points.length
        ? `${points.length} corners drawn${points.length < 3 ? " (at least three make an area)" : ""}.`
        : "Nothing drawn: the view computed from heading, field of view and range is used (dashed).";
      preview();
    }

    // The computed view comes from the server (cameras.geometry): one rule, not a copy of it in here.
    let asked = 0;
    let placed = lat !== null && lng !== null ? `${lat},${lng}` : "";
    function preview() {
      const la = number("latitude");
      const lo = number("longitude");
      if (la !== null && lo !== null) {
        camera.setLatLng([la, lo]).addTo(map);
        // A newly typed position brings the map to the camera, while nothing is drawn that it would hide.
        if (`${la},${lo}` !== placed && !points.length) {
          map.invalidateSize(); // the admin's layout may have settled since the map was made
          map.setView([la, lo], 18);
        }
        placed = `${la},${lo}`;
      }
      if (points.length || !options.previewUrl || la === null || lo === null) {
        computed.setLatLngs([]);
        editor.dataset.computed = "0";
        return;
      }
      const query = new URLSearchParams({ latitude: la, longitude: lo });
      for (const name of ["heading_deg", "fov_deg", "range_m"]) {
        if (number(name) !== null) query.set(name, number(name));
      }
      const ticket = ++asked;
      fetch(`${options.previewUrl}?${query}`, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : { coverage: [] }))
        .then((answer) => {
          if (ticket !== asked) return; // a later change asked again
          computed.setLatLngs(answer.coverage || []);
          editor.dataset.computed = String((answer.coverage || []).length);
        })
        .catch(() => computed.setLatLngs([]));
    }

    map.on("click", (event) => {
      if (parse(textarea.value) === null) return; // do not overwrite text someone is still fixing
      points.push([round(event.latlng.lat), round(event.latlng.lng)]);
      write();
      draw();
    });
    editor.querySelector(".coverage-clear").addEventListener("click", () => {
      points = [];
      write();
      draw();
    });
    textarea.addEventListener("input", () => {
      const typed = parse(textarea.value);
      if (typed !== null) {
        points = typed;
        draw();
      }
    });
    for (const name of ["latitude", "longitude", "heading_deg", "fov_deg", "range_m"]) {
      if (field(name)) ["input", "change"].forEach((type) => field(name).addEventListener(type, preview));
    }
    draw();
    if (points.length >= 3) map.fitBounds(drawn.getBounds(), { padding: [20, 20], maxZoom: 19 });
    editor.coverageMap = map; // for tests and the curious
    editor.dataset.ready = "true";
  }

  function start() {
    document.querySelectorAll(".coverage-editor").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
