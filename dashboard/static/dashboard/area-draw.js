// Drawing an area on the map with the mouse: each click adds a corner; a double-click, Enter or a click on the
// first corner finishes; Escape cancels. Keyboard users have the radius filter (drawing needs a pointer).

import * as L from "leaflet";

export const MAX_CORNERS = 50; // the history API's limit (console/areas.py)
const SAME_SPOT_PX = 6; // a double-click's two clicks land here: one corner, not two
const FIRST_CORNER_PX = 12; // a click this near the first corner closes the area

// Whether [lat, lng] lies inside the polygon or on its edge (even-odd rule; the server's rule, console/areas.py).
export function insidePolygon([lat, lng], points) {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [yi, xi] = points[i];
    const [yj, xj] = points[j];
    // On an edge (collinear and between its ends) counts as inside.
    const cross = (lng - xi) * (yj - yi) - (lat - yi) * (xj - xi);
    if (Math.abs(cross) < 1e-12 && Math.min(xi, xj) <= lng && lng <= Math.max(xi, xj)
      && Math.min(yi, yj) <= lat && lat <= Math.max(yi, yj)) return true;
    if ((yi > lat) !== (yj > lat) && lng < xi + (lat - yi) * (xj - xi) / (yj - yi)) inside = !inside;
  }
  return inside;
}

// `onDone(points)` gets the corners as [[lat, lng], ...]; `onEnd()` runs when drawing stops either way.
export function createAreaDraw(map, { onDone, onEnd }) {
  let corners = null; // the corners so far while drawing, else null
  let sketch = null; // the outline drawn so far, with a rubber band to the pointer
  let dots = null;

  function redraw(pointer) {
    const line = pointer ? [...corners, pointer] : corners;
    sketch.setLatLngs(line);
    dots.clearLayers();
    corners.forEach((c, i) => L.circleMarker(c, { radius: i === 0 ? 7 : 4, color: "#1f5fbf", weight: 2,
      fillOpacity: i === 0 ? 0.6 : 1, interactive: false, className: "nk-area-corner" }).addTo(dots));
  }

  function near(a, b, px) {
    return map.latLngToContainerPoint(a).distanceTo(map.latLngToContainerPoint(b)) <= px;
  }

  function onClick(e) {
    const point = e.latlng;
    if (corners.length >= 3 && near(point, corners[0], FIRST_CORNER_PX)) return finish();
    if (corners.length && near(point, corners[corners.length - 1], SAME_SPOT_PX)) return;
    corners.push(point);
    redraw();
    if (corners.length >= MAX_CORNERS) finish();
  }

  const onMove = (e) => corners.length && redraw(e.latlng);
  const onDoubleClick = () => finish();

  // Capturing, so that the console's own Escape (close the panel) does not run while drawing.
  function onKey(e) {
    if (e.key === "Escape") stop(false);
    else if (e.key === "Enter") finish();
    else return;
    e.preventDefault();
    e.stopImmediatePropagation();
  }

  function finish() {
    if (corners.length < 3) return; // not an area yet: keep drawing (Escape cancels)
    stop(true);
  }

  function stop(done) {
    const points = corners.map((c) => [c.lat, c.lng]);
    corners = null;
    sketch.remove();
    dots.remove();
    map.off("click", onClick).off("mousemove", onMove).off("dblclick", onDoubleClick);
    window.removeEventListener("keydown", onKey, true);
    map.getContainer().classList.remove("nk-drawing");
    // Leaflet's double-click zoom is left off until the double-click that finished has passed.
    setTimeout(() => map.doubleClickZoom.enable(), 0);
    if (done) onDone(points);
    onEnd();
  }

  return {
    get drawing() {
      return corners !== null;
    },
    start() {
      if (corners) return;
      corners = [];
      sketch = L.polyline([], { color: "#1f5fbf", weight: 2, dashArray: "4 4", interactive: false }).addTo(map);
      dots = L.layerGroup().addTo(map);
      map.doubleClickZoom.disable();
      map.on("click", onClick).on("mousemove", onMove).on("dblclick", onDoubleClick);
      window.addEventListener("keydown", onKey, true);
      map.getContainer().classList.add("nk-drawing");
    },
    cancel() {
      if (corners) stop(false);
    },
  };
}
