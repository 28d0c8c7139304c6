// The live page: the user's recent events rendered by the server, then one EventSource to
// their stream that resumes after the newest of them, newest events first (at most 200), a
// connection indicator, reconnect with exponential backoff that resumes from the last event
// id, filters, and a detail panel with the event's JSON and deliveries.
(function () {
  "use strict";
  const MAX_ROWS = 200;
  const script = document.currentScript;
  const streamUrl = script.dataset.streamUrl;
  const eventUrl = script.dataset.eventUrl;
  const rows = document.getElementById("events");
  const indicator = document.getElementById("connection");
  const filters = document.getElementById("filters");
  let source = null;
  // The stream replays whatever came after the newest rendered event, then goes live.
  let lastEventId = script.dataset.resumeAfter || null;
  let retryDelay = 1000;
  let retryTimer = null;

  function setState(state) {
    indicator.textContent = state;
    indicator.className = "state " + state;
  }

  function streamQuery() {
    const params = new URLSearchParams();
    const data = new FormData(filters);
    for (const name of ["types", "source"]) {
      const value = String(data.get(name) || "").trim();
      if (value) params.set(name, value);
    }
    if (lastEventId) params.set("last_event_id", lastEventId);
    // Unnamed messages all reach onmessage; with `event: <type>` lines we would need a
    // listener per type, and types from new sources are not known in advance.
    params.set("event_names", "0");
    const query = params.toString();
    return query ? streamUrl + "?" + query : streamUrl;
  }

  function localTime(createdAt) {
    return new Date(createdAt).toLocaleTimeString();
  }

  function addRow(message) {
    const event = JSON.parse(message.data);
    const row = document.createElement("tr");
    row.className = "fresh";
    row.dataset.eventId = event.id;
    for (const text of [localTime(event.created_at), event.event_type, event.source,
                        event.summary]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    rows.prepend(row);
    while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
  }

  async function showDetail(eventId) {
    const response = await fetch(eventUrl + encodeURIComponent(eventId), {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const event = await response.json();
    document.getElementById("detail-title").textContent = event.event_type + " · " + event.id;
    document.getElementById("detail-json").textContent = JSON.stringify(event.data, null, 2);
    const list = document.getElementById("detail-deliveries");
    list.replaceChildren(...event.deliveries.map((delivery) => {
      const item = document.createElement("li");
      item.textContent = `#${delivery.id} → subscription ${delivery.subscription_id}: ` +
        `${delivery.status} (${delivery.attempt_count} attempts)`;
      return item;
    }));
    if (!event.deliveries.length) list.textContent = "None.";
    document.getElementById("detail").hidden = false;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (source) source.close();
    source = new EventSource(streamQuery(), { withCredentials: true });
    source.onopen = () => { setState("connected"); retryDelay = 1000; };
    source.onmessage = handle;
    source.onerror = () => {
      // Take over from EventSource's fixed retry: back off, and resume after the last event.
      source.close();
      setState(navigator.onLine === false ? "offline" : "reconnecting");
      retryTimer = setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }

  function handle(message) {
    lastEventId = message.lastEventId || lastEventId;
    addRow(message);
  }

  // Rendered rows carry UTC times: show them local, as streamed rows are.
  for (const time of rows.querySelectorAll("time[datetime]")) {
    time.textContent = localTime(time.dateTime);
  }
  rows.addEventListener("click", (click) => {
    const row = click.target.closest("tr[data-event-id]");
    if (row) showDetail(row.dataset.eventId);
  });
  filters.addEventListener("submit", (submit) => {
    submit.preventDefault();
    rows.replaceChildren();
    lastEventId = null;
    connect();
  });
  window.addEventListener("online", connect);
  window.addEventListener("offline", () => setState("offline"));
  connect();
})();
