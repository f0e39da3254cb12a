// Sign-in page: the API base comes from /config.json, tokens live in sessionStorage.

const STORAGE = { access: "kuota.access_token", refresh: "kuota.refresh_token" };

const TEXT = {
  badCredentials: "Email atau kata sandi salah / Email or password is wrong",
  locked: "Terlalu banyak percobaan gagal. Coba lagi nanti. / Too many failed attempts. Try again later.",
  lockedMinutes: (m) =>
    `Terlalu banyak percobaan gagal. Coba lagi dalam ${m} menit. / Too many failed attempts. Try again in ${m} min.`,
  unreachable: "Server tidak dapat dihubungi / Cannot reach the server",
  failed: "Terjadi kesalahan / Something went wrong",
  fields: [
    ["user_id", "ID pengguna / User ID"],
    ["email", "Email"],
    ["role", "Peran / Role"],
    ["org_id", "Organisasi / Organization"],
  ],
};

const $ = (id) => document.getElementById(id);
let apiBase = "";

async function api(path, { method = "GET", body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${apiBase}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { status: response.status, headers: response.headers, data };
}

function errorMessage(result) {
  return result.data?.error?.message || TEXT.failed;
}

function showError(message) {
  const alert = $("signin-error");
  alert.textContent = message;
  alert.focus();
}

function clearError() {
  $("signin-error").textContent = "";
}

function showSignIn() {
  $("session").hidden = true;
  $("signin").hidden = false;
  $("me").replaceChildren();
}

function showMe(me) {
  const list = $("me");
  list.replaceChildren();
  for (const [key, label] of TEXT.fields) {
    const term = document.createElement("dt");
    term.textContent = label;
    const value = document.createElement("dd");
    value.textContent = me[key] ?? "—";
    list.append(term, value);
  }
  $("signin").hidden = true;
  $("session").hidden = false;
  $("session-title").focus();
}

async function loadMe() {
  const token = sessionStorage.getItem(STORAGE.access);
  if (!token) return false;
  const result = await api("/v1/me", { token });
  if (result.status !== 200) {
    sessionStorage.removeItem(STORAGE.access);
    sessionStorage.removeItem(STORAGE.refresh);
    return false;
  }
  showMe(result.data);
  return true;
}

async function signIn(event) {
  event.preventDefault();
  clearError();
  const button = $("signin-button");
  button.disabled = true;
  try {
    const result = await api("/v1/auth/login", {
      method: "POST",
      body: { email: $("email").value.trim(), password: $("password").value },
    });
    if (result.status === 200) {
      sessionStorage.setItem(STORAGE.access, result.data.access_token);
      sessionStorage.setItem(STORAGE.refresh, result.data.refresh_token);
      $("password").value = "";
      if (!(await loadMe())) showError(TEXT.failed);
    } else if (result.status === 401) {
      showError(TEXT.badCredentials);
    } else if (result.status === 429) {
      const seconds = Number(result.headers.get("Retry-After"));
      showError(seconds > 0 ? TEXT.lockedMinutes(Math.ceil(seconds / 60)) : TEXT.locked);
    } else {
      showError(errorMessage(result));
    }
  } catch {
    showError(TEXT.unreachable);
  } finally {
    button.disabled = false;
  }
}

async function signOut() {
  const refreshToken = sessionStorage.getItem(STORAGE.refresh);
  sessionStorage.removeItem(STORAGE.access);
  sessionStorage.removeItem(STORAGE.refresh);
  if (refreshToken) {
    try {
      await api("/v1/auth/logout", { method: "POST", body: { refresh_token: refreshToken } });
    } catch {
      // Signed out here either way; the refresh token expires on its own.
    }
  }
  showSignIn();
  $("email").focus();
}

async function start() {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  try {
    const config = await (await fetch("/config.json")).json();
    apiBase = String(config.apiBase || "").replace(/\/$/, "");
    await loadMe();
  } catch {
    showError(TEXT.unreachable);
  }
}

start();
