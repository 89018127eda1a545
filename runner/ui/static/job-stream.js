// A job's live "Outputs + logs": one EventSource per page (runner.ui.events). Log lines arrive as text
// and are appended as text (a log's "<b>" shows as "<b>"), in batches. A status change updates the badge and asks
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
  // Lines are queued and appended once per animation frame as one text node, with the layout read once
  // per batch: a line at a time (a node and a scrollHeight read each) froze the tab for minutes on a
  // 20,000-line log. The view follows the end unless the user scrolled up.
  let pending = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending.length) return;
    const follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.appendChild(document.createTextNode(pending.join("")));
    pending = [];
    if (follow) log.scrollTop = log.scrollHeight;
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // a hidden tab gets no animation frames: a timer then, so the log is there when it is shown
    if (document.hidden) setTimeout(flush, 250); else requestAnimationFrame(flush);
  };
  es.addEventListener("log", (e) => { pending.push(e.data + "\n"); schedule(); });
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
  es.addEventListener("end", () => { flush(); closed(); });
  es.addEventListener("shutdown", () => { flush(); closed(); });
})();
