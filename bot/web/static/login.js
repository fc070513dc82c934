const query = new URLSearchParams(location.search);
const wait = Number(query.get("wait"));
if (wait > 0) {
  // Throttled: say how long, in the units a person reads (the count itself stays on the server).
  const minutes = Math.ceil(wait / 60);
  const text = wait < 60 ? wait + " s" : minutes < 120 ? minutes + " min" : Math.ceil(minutes / 60) + " h";
  document.querySelectorAll("#login-wait .wait").forEach((s) => { s.textContent = text; });
  document.getElementById("login-wait").classList.remove("hidden");
} else if (query.has("error")) {
  document.getElementById("login-error").classList.remove("hidden");
}
