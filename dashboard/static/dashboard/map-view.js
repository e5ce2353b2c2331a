// The Leaflet map: open SOS alerts (with trails) and incidents clustered, units by status, cameras; tiles optional.
// Markers are not tab stops (the queue is the keyboard's way to every alert); their labels show on hover, and
// when the alert's row in the queue has focus.

import * as L from "leaflet";
import { markerClusterGroup } from "./leaflet-cluster.js";
import { h } from "./dom.js";

// How bad a marker's state is, for the colour of the cluster that holds it (the worst inside wins).
const SEVERITY = { duress: 5, pending: 4, active: 4, created: 4, escalated: 5, acknowledged: 3, dispatched: 2,
  on_scene: 1, assigned: 2, in_progress: 1 };
const SEVERITY_CLASS = ["calm", "calm", "working", "seen", "urgent", "critical"];

export function severityOf(item) {
  if (item.duress_at || (item.level || 0) >= 2) return 5;
  return SEVERITY[String(item.status).toLowerCase()] ?? 1;
}

export function createMapView(element, config, onSelect) {
  const map = L.map(element, { zoomControl: true, keyboard: true, maxZoom: 19 }).setView(config.center, config.zoom);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  } else {
    // Closed networks have no tile server: a plain grid keeps markers readable without one.
    element.classList.add("no-tiles");
  }
  const clusters = markerClusterGroup({
    maxClusterRadius: 40, showCoverageOnHover: false, spiderfyOnMaxZoom: true, disableClusteringAtZoom: 17,
    iconCreateFunction(cluster) {
      const worst = Math.max(...cluster.getAllChildMarkers().map((m) => m.options.severity || 0));
      const count = cluster.getChildCount();
      return L.divIcon({
        className: "nk-cluster-icon",
        html: h("span", { class: `nk-cluster severity-${SEVERITY_CLASS[worst]}`, title: `${count}` }, String(count)),
        iconSize: [36, 36], iconAnchor: [18, 18],
      });
    },
  }).addTo(map);
  // Trails on one canvas: two hundred SVG paths of fifty points each cost the first render hundreds of ms.
  const trailRenderer = L.canvas({ padding: 0.2 });
  const markers = { sos: new Map(), incident: new Map(), unit: new Map(), camera: new Map() };
  const looks = new Map(); // "kind:id" → the classes its pin was drawn with (a new icon only when they change)
  const trails = new Map();
  const coverage = new Map(); // camera id → its shaded coverage polygon
  let selectedKey = null;
  let panelOpen = () => false;
  // Which alerts the console's filters leave on the map, (kind, id) → boolean; null: all of them.
  let keep = null;

  function pin(kind, id, classes, label) {
    const el = h("span", { class: `nk-pin nk-pin-${kind} ${classes}`, dataset: { kind, id: String(id) }, role: "img", "aria-label": label });
    // 28 px: WCAG 2.2's target size (24 px) with room to spare; cameras stay small, they are not alerts.
    const size = kind === "camera" ? 16 : 28;
    return L.divIcon({ className: `nk-marker nk-marker-${kind}`, html: el, iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
  }

  // Markers of a snapshot are added to the clusters in one call (one clustering pass instead of one per marker).
  const batched = [];

  function place(kind, id, latlng, classes, label, severity = 0, batch = false) {
    const key = `${kind}:${id}`;
    let marker = markers[kind].get(id);
    if (!marker) {
      marker = L.marker(latlng, { icon: pin(kind, id, classes, label), keyboard: false, riseOnHover: true,
        zIndexOffset: kind === "sos" ? 1000 : 0, severity, title: "" });
      marker.on("click", () => onSelect(kind, id));
      // Element content, not a string: Leaflet would parse a string as HTML, and names come from citizens.
      marker.bindTooltip(h("span", {}, label), { direction: "top", offset: [0, -14] });
      if (kind === "sos" || kind === "incident") {
        if (batch) batched.push(marker);
        else clusters.addLayer(marker);
      } else {
        map.addLayer(marker);
      }
      markers[kind].set(id, marker);
      looks.set(key, classes + label);
    } else {
      marker.setLatLng(latlng);
      // Positions arrive many times a second: the icon (a new element) is rebuilt only when its look changes.
      if (looks.get(key) !== classes + label || marker.options.severity !== severity) {
        marker.options.severity = severity;
        marker.setIcon(pin(kind, id, classes, label));
        marker.setTooltipContent(h("span", {}, label));
        looks.set(key, classes + label);
        if (kind === "sos" || kind === "incident") clusters.refreshClusters(marker);
      }
    }
    marker.getElement()?.classList.toggle("selected", selectedKey === key);
  }

  // The part of the map not hidden by the detail panel (on the right, over the map, on a wide screen).
  function rightInset() {
    return panelOpen() && element.clientWidth > 800 ? 420 : 0;
  }

  function inSight(latlng) {
    const point = map.latLngToContainerPoint(latlng);
    return point.x > 30 && point.y > 30 && point.x < element.clientWidth - rightInset() - 30 && point.y < element.clientHeight - 30;
  }

  function centreOn(latlng) {
    // Centre in the visible part: shift by half the panel's width.
    const offset = rightInset() / 2;
    const point = map.project(latlng).add([offset, 0]);
    map.panTo(map.unproject(point), { animate: true });
  }

  function remove(kind, id) {
    const marker = markers[kind].get(id);
    if (marker) (kind === "sos" || kind === "incident" ? clusters : map).removeLayer(marker);
    markers[kind].delete(id);
    looks.delete(`${kind}:${id}`);
    if (kind === "sos") {
      trails.get(id)?.remove();
      trails.delete(id);
    }
  }

  // Show or hide one alert's marker (and trail) by the filters; the selected alert always stays on the map.
  function sync(kind, id) {
    const marker = markers[kind].get(id);
    if (!marker || batched.includes(marker)) return;
    const shown = !keep || selectedKey === `${kind}:${id}` || keep(kind, id);
    if (shown !== clusters.hasLayer(marker)) {
      if (shown) clusters.addLayer(marker);
      else clusters.removeLayer(marker);
    }
    if (kind === "sos") trails.get(id)?.setStyle({ opacity: shown ? 0.7 : 0 });
  }

  function position(kind, id) {
    return markers[kind].get(id)?.getLatLng() || null;
  }

  return {
    map,
    setPanelOpen(fn) {
      panelOpen = fn;
    },
    flush() {
      if (batched.length) clusters.addLayers(batched.splice(0));
    },
    // The filters' verdict on each alert (null: show all), applied now and to every later update.
    setFilter(fn) {
      keep = fn;
      for (const kind of ["sos", "incident"]) for (const id of markers[kind].keys()) sync(kind, id);
    },
    showSOS(sos, { batch = false } = {}) {
      // Location pending: listed (at the top), but nothing to place on the map yet.
      if (sos.latitude == null || sos.longitude == null) return;
      const flags = [sos.duress_at && "duress", sos.level && `level-${Math.min(sos.level, 3)}`].filter(Boolean).join(" ");
      place("sos", sos.id, [sos.latitude, sos.longitude], `status-${sos.status} ${flags}`, `SOS #${sos.id} · ${sos.name} · ${sos.status}`,
        severityOf(sos), batch);
      const points = sos.trail.length ? sos.trail : [[sos.latitude, sos.longitude]];
      if (!trails.has(sos.id)) {
        trails.set(sos.id, L.polyline(points, { color: "#b3122e", weight: 3, opacity: 0.7, dashArray: "4 6", interactive: false, renderer: trailRenderer }).addTo(map));
      } else {
        trails.get(sos.id).setLatLngs(points);
      }
      if (keep && !batch) sync("sos", sos.id);
    },
    // A live point: the trail grows by one point instead of being redrawn whole.
    appendPoint(sos, latlng) {
      const trail = trails.get(sos.id);
      if (trail) trail.addLatLng(latlng);
      this.showSOS(sos);
    },
    showIncident(incident, { batch = false } = {}) {
      if (incident.latitude == null || incident.longitude == null) return;
      place("incident", incident.id, [incident.latitude, incident.longitude],
        `priority-${String(incident.priority).toLowerCase()} status-${String(incident.status).toLowerCase()}`,
        `${incident.label} · ${incident.priority}`, severityOf(incident), batch);
      if (keep && !batch) sync("incident", incident.id);
    },
    // A camera: its coverage shaded and a small pin, both coloured by health (ok, reconnecting, offline, unknown).
    showCamera(camera) {
      const style = { className: `nk-coverage health-${camera.health}`, weight: 1, fillOpacity: 0.15, interactive: false };
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
        `Unit ${unit.unit_number} · ${String(unit.status).replace("_", " ")}`);
    },
    remove,
    position,
    select(kind, id) {
      const previous = selectedKey;
      selectedKey = kind ? `${kind}:${id}` : null;
      if (keep) {
        for (const key of [previous, selectedKey]) {
          const [k, ...rest] = key ? key.split(":") : [];
          if (k === "sos" || k === "incident") sync(k, k === "sos" ? Number(rest.join(":")) : rest.join(":"));
        }
      }
      for (const key of [previous, selectedKey]) {
        if (!key) continue;
        const [k, ...rest] = key.split(":");
        const markerId = rest.join(":");
        const marker = markers[k]?.get(k === "sos" ? Number(markerId) : markerId);
        marker?.getElement()?.classList.toggle("selected", key === selectedKey);
      }
      this.reveal(kind, id);
    },
    // Bring an alert into sight (a new arrival) without selecting it; a clustered marker is unclustered.
    reveal(kind, id) {
      const marker = kind && markers[kind].get(id);
      if (!marker) return;
      if (kind === "sos" || kind === "incident") {
        if (!clusters.hasLayer(marker)) return; // left off the map by the filters
        if (!inSight(marker.getLatLng())) clusters.zoomToShowLayer(marker, () => {});
        else if (!marker.getElement()) clusters.zoomToShowLayer(marker, () => {});
      } else if (!inSight(marker.getLatLng())) {
        centreOn(marker.getLatLng());
      }
    },
    follow(kind, id) {
      const latlng = position(kind, id);
      if (latlng) centreOn(latlng);
    },
    // The label of an alert whose row has the keyboard's focus.
    label(kind, id, open) {
      const marker = kind && markers[kind].get(id);
      if (!marker) return;
      if (open && marker.getElement()) marker.openTooltip();
      else marker.closeTooltip();
    },
    fitAll() {
      const all = [...markers.sos.values(), ...trails.values(), ...markers.incident.values(), ...markers.unit.values()];
      if (!all.length) return;
      map.fitBounds(L.featureGroup(all).getBounds(), { paddingTopLeft: [40, 40], paddingBottomRight: [40 + rightInset(), 40], maxZoom: 15 });
    },
    // The centre of the part of the map not covered by the panel.
    visibleCentre() {
      const point = map.project(map.getCenter()).subtract([rightInset() / 2, 0]);
      const latlng = map.unproject(point);
      return [latlng.lat, latlng.lng];
    },
    // The area filter's circle or drawn polygon (null: none); drawn only, never clickable.
    showArea(area) {
      if (this._area) this._area.remove();
      const style = { color: "#1f5fbf", weight: 2, dashArray: "6 4", fill: false, interactive: false, className: "nk-area" };
      if (!area) this._area = null;
      else if (area.points) this._area = L.polygon(area.points, style).addTo(map);
      else this._area = L.circle(area.centre, { ...style, radius: area.km * 1000 }).addTo(map);
    },
    unitTrail(points) {
      if (this._unitTrail) this._unitTrail.remove();
      this._unitTrail = points.length ? L.polyline(points, { color: "#1f5fbf", weight: 3, opacity: 0.8, interactive: false }).addTo(map) : null;
    },
  };
}
