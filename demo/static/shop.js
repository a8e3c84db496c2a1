// Teapot & Co.: the page script. Add to cart, pay, and the fault panel,
// through the shop's JSON APIs. The cart ID lives in the "demo_cart" cookie.
(function () {
  "use strict";

  var CART = "demo_cart";

  function getCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split("=");
      if (kv[0] === name) return decodeURIComponent(kv.slice(1).join("="));
    }
    return "";
  }

  function setCookie(name, value) {
    document.cookie = name + "=" + encodeURIComponent(value) + "; path=/; SameSite=Lax" +
      (value ? "; max-age=86400" : "; max-age=0");
  }

  function api(method, path, body) {
    var init = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        return { ok: res.ok, status: res.status, data: data };
      });
    });
  }

  function say(el, text, ok) {
    if (!el) return;
    el.hidden = false;
    el.textContent = text;
    el.className = el.className.replace(/\s*\b(ok|bad)\b/g, "") + (ok ? " ok" : " bad");
  }

  function addToCart(btn) {
    var body = { sku: btn.getAttribute("data-sku"), qty: 1 };
    var existing = getCookie(CART);
    if (existing) body.cart_id = existing;
    btn.disabled = true;
    api("POST", "/api/cart", body).then(function (r) {
      if (!r.ok && existing) { // the cart was checked out or expired: start a new one
        delete body.cart_id;
        return api("POST", "/api/cart", body);
      }
      return r;
    }).then(function (r) {
      if (!r.ok) throw new Error(r.data.error || ("HTTP " + r.status));
      setCookie(CART, r.data.cart.id);
      window.location.href = "/cart";
    }).catch(function (err) {
      btn.disabled = false;
      say(document.getElementById("message"), "Could not add to cart: " + err.message, false);
    });
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("button[data-sku]") : null;
    if (btn) { e.preventDefault(); addToCart(btn); }
  });

  var pay = document.getElementById("pay-form");
  if (pay) {
    pay.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = document.getElementById("pay");
      var result = document.getElementById("result");
      button.disabled = true;
      say(result, "Paying…", true);
      api("POST", "/api/checkout", {
        cart_id: pay.getAttribute("data-cart"),
        card: document.getElementById("card").value
      }).then(function (r) {
        if (r.ok && r.data.status === "paid") {
          setCookie(CART, "");
          say(result, "Thank you! Order " + r.data.order_id + " is paid.", true);
          pay.hidden = true;
          return;
        }
        button.disabled = false;
        say(result, "Payment failed: " + (r.data.error || ("HTTP " + r.status)), false);
      }).catch(function (err) {
        button.disabled = false;
        say(result, "Payment failed: " + err.message, false);
      });
    });
  }

  var faults = document.getElementById("faults-form");
  if (faults) {
    var current = document.getElementById("current");
    var show = function (r) {
      say(document.getElementById("message"), r.ok ? "Faults updated." : "Not applied: " + r.data.error, r.ok);
      if (r.ok) {
        current.textContent = JSON.stringify(r.data);
        document.getElementById("checkout_error_rate").value = r.data.checkout_error_rate;
        document.getElementById("latency").value = r.data.latency === "0s" ? "" : r.data.latency;
        document.getElementById("product_js_error").checked = r.data.product_js_error;
      }
    };
    faults.addEventListener("submit", function (e) {
      e.preventDefault();
      var rate = document.getElementById("checkout_error_rate").value;
      api("POST", "/demo/faults", {
        checkout_error_rate: rate === "" ? 0 : Number(rate),
        latency: document.getElementById("latency").value.trim(),
        product_js_error: document.getElementById("product_js_error").checked
      }).then(show);
    });
    document.getElementById("clear-faults").addEventListener("click", function () {
      api("DELETE", "/demo/faults").then(show);
    });
  }
})();
