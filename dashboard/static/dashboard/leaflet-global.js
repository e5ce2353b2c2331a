// Leaflet plugins from npm are classic scripts that extend a global `L`; the ES module's namespace is frozen,
// so they get a mutable copy of it (the classes themselves are shared, so what they add is seen by both).
import * as Leaflet from "leaflet";

window.L = { ...Leaflet };
