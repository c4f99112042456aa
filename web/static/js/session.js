// Where the token is kept. "Remember me" keeps it in localStorage, so every
// tab of this browser is signed in and stays so; otherwise sessionStorage,
// for this tab only (which wins in its tab). Logging out clears both and
// tells every other tab of the browser to log out too.
const KEY = "parley.token";
const LOGOUT = "parley.logout"; // written on logout, so the storage event fires

export function token() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
}

export function keep(value, remember) {
  if (remember) localStorage.setItem(KEY, value);
  else sessionStorage.setItem(KEY, value);
}

// forget drops this tab's token (a token the server no longer takes).
export function forget() {
  localStorage.removeItem(KEY);
  sessionStorage.removeItem(KEY);
}

// logOutEverywhere forgets the token and signs out every tab.
export function logOutEverywhere() {
  forget();
  localStorage.setItem(LOGOUT, String(Date.now()));
}

// onLogOutElsewhere calls fn when another tab logs out.
export function onLogOutElsewhere(fn) {
  addEventListener("storage", (event) => {
    if (event.key === LOGOUT) {
      sessionStorage.removeItem(KEY);
      fn();
    }
  });
}
