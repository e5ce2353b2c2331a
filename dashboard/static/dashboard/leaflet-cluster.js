// Marker clustering (leaflet.markercluster from npm, served locally): the plugin runs after the global `L` exists.
import "./leaflet-global.js";
import "leaflet.markercluster";

export const markerClusterGroup = (options) => window.L.markerClusterGroup(options);
// Cluster bubbles are not tab stops either: the queue is the keyboard's way to every alert.
window.L.MarkerCluster.mergeOptions({ keyboard: false });
