// docscrawl's dashboard: makes the server-rendered pages live. Every page works without it.
//
// - Forms with data-confirm ask first (the server asks too, on a page, when this script is off).
// - A job's page follows its Server-Sent Events (/api/jobs/{id}/events) for the counters,
//   redraws its chart from /api/jobs/{id}/samples and its log from /api/jobs/{id}/log.
// - Regions marked data-live (the jobs table, the nodes) are refreshed by fetching the page
//   itself again and swapping them, so the server's templates stay the only renderer.
// Requests carry the session cookie and the CSRF token from <meta name="csrf-token">.
(() => {
  "use strict";

  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function api(path) {
    const response = await fetch(path, {
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  // --- formatting (the same as dashboard.py's filters) ------------------------------------------

  function durationText(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const whole = Math.round(seconds);
    const pad = (n) => String(n).padStart(2, "0");
    if (whole >= 3600) return `${Math.floor(whole / 3600)} h ${pad(Math.floor((whole % 3600) / 60))} m`;
    if (whole >= 60) return `${Math.floor(whole / 60)} m ${pad(whole % 60)} s`;
    return `${whole} s`;
  }

  const rateText = (rate) => (rate === null || rate === undefined ? "–" : `${rate.toFixed(1)}/s`);

  // --- confirmations and the notice ---------------------------------------------------------------

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    const confirmed = form.querySelector('input[name="confirmed"]');
    if (confirmed) confirmed.value = "1";
  });

  // The notice came with a redirect; a reload or a bookmark should not show it again.
  const url = new URL(window.location.href);
  if (url.searchParams.has("notice")) {
    url.searchParams.delete("notice");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  // --- live regions -------------------------------------------------------------------------------

  async function refreshRegions() {
    // The page's own URL as the server knows it (after a form's error, the address bar shows
    // the form's POST route, which a GET cannot fetch).
    const page = document.body.dataset.here || window.location.href;
    const response = await fetch(page, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (!response.ok) return false;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of document.querySelectorAll("[data-live][id]")) {
      const replacement = fresh.getElementById(region.id);
      if (replacement) region.replaceWith(document.adoptNode(replacement));
    }
    return true;
  }

  function pollRegions() {
    const first = document.querySelector("[data-live][data-interval]");
    if (!first) return;
    const tick = async () => {
      if (!document.hidden) {
        try {
          await refreshRegions();
        } catch (error) {
          console.warn("docscrawl: refresh failed", error);
        }
      }
      const region = document.getElementById(first.id);
      // A region the server no longer gives an interval (the job ended, the change report
      // is written) is final.
      if (region?.hasAttribute("data-interval")) {
        window.setTimeout(tick, Number(region.dataset.interval || 5000));
      }
    };
    window.setTimeout(tick, Number(first.dataset.interval || 5000));
  }

  // --- one job ------------------------------------------------------------------------------------

  function showProgress(progress) {
    const fields = {
      pages: progress.pages,
      errors: progress.errors,
      queued: progress.queued,
      rate: rateText(progress.rate),
      eta_seconds: durationText(progress.eta_seconds),
      duration: durationText(progress.duration),
      finish_reason: progress.finish_reason || "–",
      estimated_total: progress.estimated_total || "–",
      "status-text": progress.status,
    };
    const root = document.getElementById("job-counters");
    for (const [name, value] of Object.entries(fields)) {
      for (const element of root.querySelectorAll(`[data-field="${name}"]`)) {
        element.textContent = String(value);
      }
    }
    const bar = root.querySelector("progress");
    if (bar && progress.estimated_total) {
      const share = Math.min(100, (100 * progress.pages) / progress.estimated_total);
      bar.value = share;
      bar.textContent = `${Math.round(share)}%`;
    }
    for (const badge of document.querySelectorAll('h1 [data-field="status"]')) {
      badge.textContent = progress.status;
      badge.className = `badge status-${progress.status}`;
    }
  }

  function drawChart(svg, samples) {
    const [, , width, height] = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    const pad = (name) => Number(svg.dataset[name]);
    const innerW = width - pad("left") - pad("right");
    const innerH = height - pad("top") - pad("bottom");
    const points = samples
      .filter((s) => s.at)
      .map((s) => [Date.parse(s.at), s.pages]);
    const most = Math.max(0, ...points.map((p) => p[1]));
    const top = niceCeiling(most);
    const span = points.length > 1 ? (points[points.length - 1][0] - points[0][0]) / 1000 : 0;
    const drawn = points.map(([at, pages]) => {
      const x = pad("left") + (span ? (at - points[0][0]) / 1000 / span : 0) * innerW;
      const y = pad("top") + (1 - pages / top) * innerH;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    svg.querySelector('[data-series="pages"]').setAttribute("points", drawn.join(" "));
    svg.querySelector('[data-label="top"]').textContent = String(top);
    svg.querySelector('[data-label="middle"]').textContent = String(Math.floor(top / 2));
    svg.querySelector('[data-label="span"]').textContent = durationText(span);
    const note = document.getElementById("chart-note");
    if (note) note.textContent = `${points.length} sample${points.length === 1 ? "" : "s"} (the crawl's heartbeats).`;
  }

  function niceCeiling(value) {
    if (value <= 10) return 10;
    const power = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  async function loadSamples(jobId) {
    const svg = document.getElementById("chart");
    if (svg) drawChart(svg, await api(`/api/jobs/${jobId}/samples`));
  }

  async function loadLog(jobId) {
    const pre = document.getElementById("log");
    if (!pre) return;
    const data = await api(`/api/jobs/${jobId}/log?tail=${pre.dataset.lines || 100}`);
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.textContent = data.lines.join("\n");
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  function followJob(root) {
    const jobId = root.dataset.job;
    let status = root.dataset.status;
    const log = document.getElementById("log");
    if (log) log.scrollTop = log.scrollHeight;
    if (root.dataset.active !== "true") return;

    const quietly = (promise) => promise.catch((error) => console.warn("docscrawl:", error));
    const timers = [
      window.setInterval(() => document.hidden || quietly(loadSamples(jobId)), 4000),
      window.setInterval(() => document.hidden || quietly(loadLog(jobId)), 3000),
    ];
    const events = new EventSource(`/api/jobs/${jobId}/events`);
    const onProgress = (event) => {
      const progress = JSON.parse(event.data);
      showProgress(progress);
      if (progress.status !== status) {
        status = progress.status;
        root.dataset.status = status;
        quietly(refreshRegions()); // the buttons, the ledger, the changes
      }
    };
    events.addEventListener("status", onProgress);
    events.addEventListener("progress", onProgress);
    // The stream ends with the job; closed here, or EventSource would reconnect.
    events.addEventListener("end", (event) => {
      events.close();
      timers.forEach(window.clearInterval);
      onProgress(event);
      root.dataset.active = "false";
      document.querySelector("#job-counters .progress")?.remove();
      // A scheduled crawl's change report comes a moment later: its region says to poll.
      quietly(refreshRegions().then(pollRegions));
      quietly(loadSamples(jobId));
      quietly(loadLog(jobId));
    });
  }

  const job = document.getElementById("job");
  if (job) followJob(job);
  pollRegions();
})();
