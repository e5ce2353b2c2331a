// The Leaflet map: one marker per open SOS (with its trail), open incident and unit; tiles optional.

import * as L from "leaflet";
import { h } from "./dom.js";

export function createMapView(element, config, onSelect) {
  const map = L.map(element, { zoomControl: true }).setView(config.center, config.zoom);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  } else {
    // Closed networks have no tile server: a plain grid keeps markers readable without one.
    element.classList.add("no-tiles");
  }
  const markers = { sos: new Map(), incident: new Map(), unit: new Map(), camera: new Map() };
  const trails = new Map();
  const coverage = new Map(); // camera id → its shaded coverage polygon
  let selectedKey = null;

  function pin(kind, id, classes, label) {
    const el = h("span", { class: `nk-pin nk-pin-${kind} ${classes}`, dataset: { kind, id: String(id) }, title: label });
    return L.divIcon({ className: `nk-marker nk-marker-${kind}`, html: el, iconSize: [22, 22], iconAnchor: [11, 11] });
  }

  function place(kind, id, latlng, classes, label) {
    let marker = markers[kind].get(id);
    const icon = pin(kind, id, classes, label);
    if (!marker) {
      marker = L.marker(latlng, { icon, keyboard: true, riseOnHover: true, zIndexOffset: kind === "sos" ? 1000 : 0 });
      marker.on("click", () => onSelect(kind, id));
      // Element content, not a string: Leaflet would parse a string as HTML, and names come from citizens.
      marker.bindTooltip(h("span", {}, label));
      marker.addTo(map);
      markers[kind].set(id, marker);
    } else {
      marker.setLatLng(latlng);
      marker.setIcon(icon);
      marker.setTooltipContent(h("span", {}, label));
    }
    marker.getElement()?.classList.toggle("selected", selectedKey === `${kind}:${id}`);
  }

  function visibleLeftOfPanel(latlng) {
    const point = map.latLngToContainerPoint(latlng);
    const right = element.clientWidth > 800 ? element.clientWidth - 420 : element.clientWidth;
    return point.x > 30 && point.y > 30 && point.x < right && point.y < element.clientHeight - 30;
  }

  function remove(kind, id) {
    markers[kind].get(id)?.remove();
    markers[kind].delete(id);
    if (kind === "sos") {
      trails.get(id)?.remove();
      trails.delete(id);
    }
  }

  return {
    showSOS(sos) {
      // Location pending: listed (at the top), but nothing to place on the map yet.
      if (sos.latitude == null || sos.longitude == null) return;
      place("sos", sos.id, [sos.latitude, sos.longitude], `status-${sos.status}`, `SOS #${sos.id} · ${sos.name}`);
      const points = sos.trail.length ? sos.trail : [[sos.latitude, sos.longitude]];
      if (!trails.has(sos.id)) {
        trails.set(sos.id, L.polyline(points, { color: "#b3122e", weight: 3, opacity: 0.7, dashArray: "4 6" }).addTo(map));
      } else {
        trails.get(sos.id).setLatLngs(points);
      }
    },
    showIncident(incident) {
      if (incident.latitude == null || incident.longitude == null) return;
      place("incident", incident.id, [incident.latitude, incident.longitude], `priority-${String(incident.priority).toLowerCase()}`,
        `${incident.label} · ${incident.priority}`);
    },
    // A camera: its coverage shaded and a small pin, both coloured by health (ok, reconnecting, offline, unknown).
    showCamera(camera) {
      const style = { className: `nk-coverage health-${camera.health}`, weight: 1, fillOpacity: 0.15 };
      if (!coverage.has(camera.camera_id)) {
        coverage.set(camera.camera_id, L.polygon(camera.coverage, style).addTo(map));
      } else {
        coverage.get(camera.camera_id).setLatLngs(camera.coverage);
        coverage.get(camera.camera_id).getElement()?.setAttribute("class", `leaflet-interactive ${style.className}`);
      }
      place("camera", camera.camera_id, [camera.latitude, camera.longitude], `health-${camera.health}`,
        `Camera ${camera.name} · ${camera.health}`);
    },
    showUnit(unit) {
      if (unit.last_latitude == null || unit.last_longitude == null) return;
      place("unit", unit.unit_number, [unit.last_latitude, unit.last_longitude], `status-${unit.status}`,
        `Unit ${unit.unit_number} · ${unit.status}`);
    },
    remove,
    select(kind, id) {
      selectedKey = kind ? `${kind}:${id}` : null;
      for (const [k, byId] of Object.entries(markers)) {
        for (const [markerId, marker] of byId) marker.getElement()?.classList.toggle("selected", selectedKey === `${k}:${markerId}`);
      }
      const marker = kind && markers[kind].get(id);
      // Move the map only when the marker is out of sight (or behind the detail panel on the right).
      if (marker && !visibleLeftOfPanel(marker.getLatLng())) map.panTo(marker.getLatLng());
    },
    fitAll() {
      const all = [...markers.sos.values(), ...trails.values(), ...markers.incident.values(), ...markers.unit.values()];
      if (!all.length) return;
      // On a wide screen keep the right-hand part clear: the detail panel opens over it.
      const right = element.clientWidth > 800 ? 420 : 40;
      map.fitBounds(L.featureGroup(all).getBounds(), { paddingTopLeft: [40, 40], paddingBottomRight: [right, 40], maxZoom: 15 });
    },
  };
}
