// The public API, as the studio uses it: the token from sessionStorage,
// problem documents as errors, ETags kept for If-Match.

const TOKEN_KEY = "lamina.studio.token";
const ROLE_KEY = "lamina.studio.role";

/** The signed-in token and role, kept for this tab only (never in a URL or in storage that outlives the tab). */
export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get role() {
    return sessionStorage.getItem(ROLE_KEY);
  },
  start(token, role) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(ROLE_KEY, role);
  },
  end() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ROLE_KEY);
  },
  /** Whether the role may write content. */
  get canEdit() {
    const role = sessionStorage.getItem(ROLE_KEY);
    return role === "editor" || role === "admin";
  },
};

/** A failed request: the problem document's fields, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || (status === 0 ? "network" : "unknown");
    this.problem = problem || {};
    this.errors = problem?.errors || [];
  }
}

/** Sends a request; resolves to { status, etag, data } or throws ApiError. */
export async function call(method, path, { body, ifMatch, token = session.token } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (ifMatch) headers["If-Match"] = ifMatch;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch (error) {
    throw new ApiError(0, { title: "Network error", detail: `lamina could not be reached (${error.message}).` });
  }
  const type = response.headers.get("Content-Type") || "";
  let data = null;
  if (response.status !== 204 && response.status !== 304 && /json/.test(type)) {
    data = await response.json().catch(() => null);
  }
  if (!response.ok) {
    throw new ApiError(response.status, data);
  }
  return { status: response.status, etag: response.headers.get("ETag"), data };
}

export const get = (path, options) => call("GET", path, options);
export const put = (path, body, options = {}) => call("PUT", path, { ...options, body });
export const post = (path, body, options = {}) => call("POST", path, { ...options, body });
export const del = (path, options) => call("DELETE", path, options);

/** URL of an article, optionally of one of its sub-resources. */
export function articlePath(slug, rest = "") {
  return `/v1/articles/${encodeURIComponent(slug)}${rest}`;
}

/**
 * Finds what a token may do, using only the public API: any valid token
 * reads (401 otherwise), editors list releases, admins list webhooks.
 */
export async function roleOf(token) {
  await get("/v1/articles?limit=1", { token });
  try {
    await get("/v1/releases", { token });
  } catch (error) {
    if (error.status === 403) return "preview";
    throw error;
  }
  try {
    await get("/v1/webhooks", { token });
    return "admin";
  } catch (error) {
    if (error.status === 403) return "editor";
    throw error;
  }
}

/** URL of an asset (API.md §15). */
export const assetPath = (id) => `/v1/assets/${encodeURIComponent(id)}`;

/**
 * Uploads an image file (POST /v1/assets?filename=…, the raw bytes as the
 * body). XMLHttpRequest, not fetch: only it reports upload progress, which
 * `onProgress(loaded, total)` receives. Resolves to { status, etag, data }.
 */
export function uploadAsset(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/assets?filename=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, etag: xhr.getResponseHeader("ETag"), data });
      else reject(new ApiError(xhr.status, data));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { title: "Network error", detail: "lamina could not be reached." })));
    xhr.send(file);
  });
}

const imageCache = new Map();
/**
 * An image lamina serves only to tokens until published content uses it, as
 * a data: URL (an <img> sends no token; the page's policy allows data: images).
 */
export function imageData(url) {
  if (!imageCache.has(url)) {
    const loading = fetch(url, { headers: { Authorization: `Bearer ${session.token}` }, credentials: "omit", referrerPolicy: "no-referrer" })
      .then((response) => {
        if (!response.ok) throw new ApiError(response.status, null);
        return response.blob();
      })
      .then((blob) => new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(blob);
      }));
    loading.catch(() => imageCache.delete(url));
    imageCache.set(url, loading);
  }
  return imageCache.get(url);
}
