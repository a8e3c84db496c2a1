// Sentinel draws times in the viewer's time zone. Unless the viewer chose
// a zone (Settings), it is the browser's: this keeps the sentinel_tz
// cookie at "auto:<the browser's zone>" and reloads once when that changed.
(function () {
  var m = document.cookie.match(/(?:^|; )sentinel_tz=([^;]*)/);
  var pref = m ? decodeURIComponent(m[1]) : "auto";
  if (pref !== "auto" && pref.indexOf("auto:") !== 0) return;
  var tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!tz || pref === "auto:" + tz) return;
  document.cookie = "sentinel_tz=" + encodeURIComponent("auto:" + tz) + "; path=/; max-age=31536000; samesite=lax";
  if (document.documentElement.getAttribute("data-tz") !== tz) location.reload();
})();
