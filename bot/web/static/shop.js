// Demo page only: the sample-shopper picker. It stands in for the shop's own login:
// the demo token endpoint (/demo/token) signs a token for the shopper this cookie names.
(function () {
  "use strict";
  const picker = document.getElementById("shopper-select");
  const shopper = localStorage.getItem("shopper") || "u1001";
  document.cookie = "demo_shopper=" + encodeURIComponent(shopper) + "; path=/; SameSite=Strict";
  picker.value = shopper;
  picker.addEventListener("change", () => {
    localStorage.setItem("shopper", picker.value);
    location.reload();
  });
})();
