// A job's live "Outputs + logs": one EventSource per page (runner.ui.events). Log lines arrive as text
// and are appended as text (a log's "<b>" shows as "<b>"). A status change updates the badge and asks
// htmx to refresh the overview (the "job-status" event its hx-trigger listens for).
(function () {
  "use strict";
  const live = document.getElementById("live");
  if (!live) return;
  const log = document.getElementById("log");
  const es = new EventSource(live.dataset.events);
  const closed = () => { es.close(); live.dataset.stream = "closed"; };
  es.onopen = () => { live.dataset.stream = "open"; };
  es.onerror = () => { if (live.dataset.stream !== "closed") live.dataset.stream = "reconnecting"; };
  es.addEventListener("log", (e) => {
    const follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(e.data + "\n");
    if (follow) log.scrollTop = log.scrollHeight;
  });
  es.addEventListener("skipped", (e) => {
    const note = document.getElementById("log-skipped");
    note.textContent = "(the first " + e.data + " bytes of the log are not shown: download the whole log)";
    note.hidden = false;
  });
  es.addEventListener("status", (e) => {
    const data = JSON.parse(e.data);
    const badge = document.getElementById("status");
    if (!badge || badge.textContent === data.status) return;
    badge.textContent = data.status;
    badge.className = "status status-" + data.status.toLowerCase();
    document.body.dispatchEvent(new CustomEvent("job-status", { detail: data }));
  });
  es.addEventListener("end", closed);
  es.addEventListener("shutdown", closed);
})();
