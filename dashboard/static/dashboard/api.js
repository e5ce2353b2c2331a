// A small client for the REST API: JSON in and out, credentials in headers, errors as ApiError.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `Request failed (${status})`);
    this.status = status;
    this.code = body && body.code;
    this.fields = body && body.fields;
  }
}

// DRF writes absolute `next` links with the host it saw; behind a proxy that may not be ours.
function samePath(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

// `headers` carries the credential: {Authorization: "Token …"} or {"X-SOS-Token": …}.
// Cookies are never sent: a signed-in session would make DRF demand a CSRF token.
export function apiClient(headers) {
  async function request(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: "omit",
      headers: { Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  return {
    get: (path, params) => request("GET", params ? `${path}?${new URLSearchParams(params)}` : path),
    post: (path, body = {}) => request("POST", path, body),
    // Every page of a paginated list, for the few lists the dashboard keeps whole (open alerts, units).
    async all(path, params) {
      const items = [];
      let next = params ? `${path}?${new URLSearchParams(params)}` : path;
      while (next) {
        const page = await request("GET", next);
        items.push(...page.results);
        next = page.next && samePath(page.next);
      }
      return items;
    },
    // Evidence images need the credential too, so they are fetched and shown from a blob URL.
    async blobUrl(url) {
      const sameOrigin = new URL(url, location.href).origin === location.origin;
      if (!sameOrigin) return url; // a signed URL carries its own credential
      const response = await fetch(url, { credentials: "omit", headers });
      if (!response.ok) throw new ApiError(response.status, null);
      return URL.createObjectURL(await response.blob());
    },
  };
}
