// Where the token is kept. "Remember me" keeps it in localStorage, so every
// tab of this browser is signed in and stays so; otherwise sessionStorage,
// for this tab only. Logging out clears both, and other tabs follow (the
// storage event).
const KEY = "parley.token";

export function token() {
  return localStorage.getItem(KEY) || sessionStorage.getItem(KEY);
}

export function keep(value, remember) {
  (remember ? localStorage : sessionStorage).setItem(KEY, value);
  (remember ? sessionStorage : localStorage).removeItem(KEY);
}

export function forget() {
  localStorage.removeItem(KEY);
  sessionStorage.removeItem(KEY);
}

// onSignOutElsewhere calls fn when another tab logs out.
export function onSignOutElsewhere(fn) {
  addEventListener("storage", (event) => {
    if (event.key === KEY && event.newValue === null && !sessionStorage.getItem(KEY)) fn();
  });
}
