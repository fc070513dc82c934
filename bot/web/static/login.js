if (new URLSearchParams(location.search).has("error")) document.getElementById("login-error").classList.remove("hidden");
