// pictune's page: upload → stages → the finished piece (summary, audio, score editor,
// motivation, examples, rounds, variations) → history. Every API call goes through api().
// Other features hook in through window.pictune (api, show, follow) and #extensions.
"use strict";
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "pictune-token";  // sessionStorage: gone when the tab closes, never in a URL
const state = {chosen: null, job: null, view: null, urls: {}, visual: null, timer: null};

// ---- the API, with the bearer token asked for once -------------------------------------
let waiting = null;
let asking = null;  // one question at a time, however many calls were refused
function askToken(again) {
  if (asking) return asking;
  $("auth").hidden = false; $("auth-note").textContent = again ? "That token was refused; try again." : "";
  $("token").focus();
  asking = new Promise(resolve => { waiting = resolve; });
  return asking;
}
$("auth").onsubmit = (ev) => {
  ev.preventDefault();
  const value = $("token").value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value); $("token").value = ""; $("auth").hidden = true;
  if (waiting) { const resume = waiting; waiting = null; asking = null; resume(); }
};
async function api(url, options = {}, retried = false) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = Object.assign({}, options.headers || {}, token ? {Authorization: `Bearer ${token}`} : {});
  const response = await fetch(url, Object.assign({}, options, {headers}));
  if (response.status === 401 && !retried) {
    if (token) sessionStorage.removeItem(TOKEN_KEY);
    await askToken(Boolean(token));
    return api(url, options, true);
  }
  return response;
}
async function blobUrl(url) {
  const response = await api(url);
  return response.ok ? URL.createObjectURL(await response.blob()) : "";
}
async function problem(response) {
  try { const p = await response.json(); return p.detail || p.title; } catch (e) { return response.statusText; }
}
function escape(text) { const d = document.createElement("div"); d.textContent = text == null ? "" : String(text); return d.innerHTML; }

// ---- choosing a picture -----------------------------------------------------------------
function pick(file) {
  state.chosen = file; $("drop-text").textContent = `Chosen: ${file.name}`; $("go").disabled = false;
  $("error").textContent = ""; clearStages();
}
function openChooser() { $("file").click(); }
$("drop").onclick = openChooser;
$("drop").onkeydown = (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); openChooser(); } };
$("file").onchange = () => $("file").files[0] && pick($("file").files[0]);
["dragenter", "dragover"].forEach(e => $("drop").addEventListener(e, ev => { ev.preventDefault(); $("drop").classList.add("over"); }));
["dragleave", "drop"].forEach(e => $("drop").addEventListener(e, ev => { ev.preventDefault(); $("drop").classList.remove("over"); }));
$("drop").addEventListener("drop", ev => ev.dataTransfer.files[0] && pick(ev.dataTransfer.files[0]));
document.querySelectorAll("#examples .example").forEach(button => button.onclick = async () => {
  const blob = await (await fetch(button.dataset.src)).blob();
  pick(new File([blob], button.dataset.name, {type: blob.type}));
  $("form").requestSubmit();
});

// ---- the controls, filled from the server's own lists ----------------------------------
async function loadChoices() {
  const response = await api("/api/choices");
  if (!response.ok) return;
  const lists = await response.json();
  const fill = (id, values) => values.forEach(v => { const o = document.createElement("option"); o.textContent = v; $(id).append(o); });
  fill("key", lists.keys); fill("instrument", lists.instruments); fill("mood", lists.moods);
}

// ---- stages: the job's own, from the server ------------------------------------------
function clearStages() { $("stages").innerHTML = ""; $("queue").textContent = ""; }
function showStages(job) {
  const all = ["queued", ...job.stages, "done"];
  const failed = job.status === "failed";
  const at = job.status === "done" ? all.length - 1 : job.stage === "starting" ? 0.5 : all.indexOf(job.stage);
  $("stages").innerHTML = all.map((s, i) => {
    const cls = i < at || (job.status === "done") ? "done" : i === at ? (failed ? "failed" : "now") : "";
    return `<li class="${cls}"${i === at && !failed ? ' aria-current="step"' : ""}>${escape(s)}</li>`;
  }).join("");
  $("queue").textContent = job.status === "queued" && job.position
    ? (job.position === 1 ? "Next in the queue." : `Position ${job.position} in the queue.`) : "";
}

// ---- submitting and following a job ----------------------------------------------------
$("form").onsubmit = async (ev) => {
  ev.preventDefault();
  if (!state.chosen) return;
  $("error").textContent = ""; $("go").disabled = true; clearStages();
  const body = new FormData();
  body.append("image", state.chosen); body.append("seed", $("seed").value || "0");
  for (const id of ["prompt", "bars", "tempo", "key", "meter", "instrument", "mood"]) {
    if ($(id).value.trim()) body.append(id, $(id).value.trim());
  }
  const response = await api("/api/compositions", {method: "POST", body});
  if (!response.ok) { $("error").textContent = await problem(response); $("go").disabled = false; return; }
  const job = await response.json();
  follow(job.id);
};
function progress(job) {
  showStages(job);
  if (job.status === "done") { show(job); loadHistory(); $("go").disabled = false; return true; }
  if (job.status === "failed") { $("error").textContent = `failed at ${job.stage}: ${job.error}`; $("go").disabled = false; loadHistory(); return true; }
  return false;
}
// Server-sent events read from a fetch stream, so that the request carries the header.
async function follow(id) {
  const response = await api(`/api/compositions/${id}/events`, {headers: {Accept: "text/event-stream"}});
  if (!response.ok || !response.body) { $("error").textContent = await problem(response); $("go").disabled = false; return; }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const kind = (block.match(/^event: (.*)$/m) || [])[1];
      const data = block.split("\n").filter(l => l.startsWith("data: ")).map(l => l.slice(6)).join("\n");
      if (kind === "progress" && progress(JSON.parse(data))) { reader.cancel(); return; }
    }
  }
  $("go").disabled = false;
}

// ---- the finished piece -----------------------------------------------------------------
const DOWNLOADS = [["mid", "MIDI", "mid"], ["abc", "ABC", "abc"], ["wav", "WAV", "wav"], ["musicxml", "MusicXML", "musicxml"],
  ["svg", "score (SVG)", "svg"], ["json", "report.json", "report.json"]];
async function show(job) {
  const f = job.files;
  const wanted = ["upload", "heatmap", "ogg", "wav", "report"].filter(k => f[k]);
  state.urls = Object.fromEntries(await Promise.all(wanted.map(async k => [k, await blobUrl(f[k])])));
  const viewResponse = await api(`/api/compositions/${job.id}/view`);
  if (!viewResponse.ok) { $("error").textContent = await problem(viewResponse); return; }
  const view = await viewResponse.json();
  state.job = job; state.view = view;
  $("title").textContent = view.title;
  const s = view.summary;
  const facts = [["Key", s.key], ["Meter", s.meter], ["Tempo", s.tempo], ["Instruments", (s.instruments || []).join(", ")],
    ["Bars", s.bars], ["Length", s.length && s.length.split(" · ").pop()]];
  $("summary").innerHTML = facts.filter(([, v]) => v).map(([k, v]) => `<div><dt>${k}</dt><dd>${escape(v)}</dd></div>`).join("");
  $("picture").src = state.urls.upload || ""; $("heatmap").src = state.urls.heatmap || state.urls.upload || "";
  $("player").src = state.urls.ogg || state.urls.wav || "";
  $("report-link").href = state.urls.report || "#";
  $("permalink").href = `/c/${job.id}`;
  $("downloads").innerHTML = "";
  DOWNLOADS.filter(([k]) => f[k]).forEach(([k, label, ext], i) => {
    const link = document.createElement("a");
    link.href = f[k]; link.textContent = label; link.dataset.key = k;
    link.download = `${view.slug}.${ext}`.replace(".report.json", "-report.json");
    link.onclick = (ev) => download(ev, link);
    if (i) $("downloads").append(" · ");
    $("downloads").append(link);
  });
  $("motivation").innerHTML = view.motivation_html;  // escaped and marked by the server
  const said = Object.entries(view.understood || {}).map(([k, v]) => `${k}: ${v}`);
  $("understood").textContent = said.length ? `From your words and choices: ${said.join("; ")}.` : "";
  $("abc-editor").value = view.abc; $("render-result").textContent = "";
  drawScore(view.abc);
  $("references").innerHTML = view.references.map(r => `<li><strong>${escape(r.title)}</strong> — ${escape(r.caption)}</li>`).join("");
  $("rounds").innerHTML = roundsTable(view.rounds);
  $("result").hidden = false;
  showVariations(job);
  document.dispatchEvent(new CustomEvent("pictune:shown", {detail: {job, view}}));
}
// A download through fetch, so that a token travels in the header, saved under the title.
async function download(ev, link) {
  ev.preventDefault();
  const url = await blobUrl(link.getAttribute("href"));
  if (!url) return;
  const a = document.createElement("a"); a.href = url; a.download = link.download; document.body.append(a); a.click(); a.remove();
}
// One column a round, one row a measure: readable at any width (the card scrolls).
function roundsTable(rounds) {
  if (!rounds.length) return "<p class='muted'>no rounds</p>";
  const names = [...new Set(rounds.flatMap(r => Object.keys(r.metrics)))];
  const cells = (f) => rounds.map(r => `<td>${escape(f(r))}</td>`).join("");
  const head = `<tr><th scope="col">measure</th>${rounds.map(r => `<th scope="col">${escape(r.kind)}${r.chosen ? " ★" : ""}</th>`).join("")}</tr>`;
  const rows = [["valid", r => r.valid ? "yes" : "no"], ["distance", r => r.distance], ...names.map(n => [n, r => r.metrics[n] ?? "–"])]
    .map(([name, f]) => `<tr><th scope="row">${escape(name)}</th>${cells(f)}</tr>`).join("");
  return `<table>${head}${rows}</table><p class="muted small">★ the chosen tune; distance 0 means inside the references' ranges.</p>`;
}
$("overlay").onchange = () => { $("heatmap").hidden = !$("overlay").checked; $("picture").hidden = $("overlay").checked; };

// ---- live notation: abcjs draws the editor's tune; the cursor follows the audio ----------
function drawScore(abc) {
  if (!window.ABCJS) return;
  const visuals = ABCJS.renderAbc("notation", abc, {responsive: "resize", add_classes: true});
  state.visual = visuals[0];
  if (state.timer) state.timer.stop();
  state.timer = state.visual ? new ABCJS.TimingCallbacks(state.visual, {eventCallback: highlight}) : null;
}
function highlight(ev) {
  document.querySelectorAll("#notation .abcjs-highlight").forEach(e => e.classList.remove("abcjs-highlight"));
  if (!ev || !ev.elements) return;
  ev.elements.flat().forEach(e => e.classList.add("abcjs-highlight"));
}
const player = $("player");
player.addEventListener("play", () => state.timer && state.timer.start(player.currentTime, "seconds"));
player.addEventListener("pause", () => state.timer && state.timer.pause());
player.addEventListener("seeked", () => state.timer && state.timer.setProgress(player.currentTime, "seconds"));
player.addEventListener("ended", () => { if (state.timer) state.timer.stop(); highlight(null); });
let redraw = null;
$("abc-editor").addEventListener("input", () => { clearTimeout(redraw); redraw = setTimeout(() => drawScore($("abc-editor").value), 250); });
$("render").onclick = async () => {
  $("render-result").textContent = "checking…";
  const response = await api("/api/abc/render", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({abc: $("abc-editor").value})});
  if (!response.ok) { $("render-result").textContent = await problem(response); return; }
  const result = await response.json();
  if (result.changed) { $("abc-editor").value = result.abc; drawScore(result.abc); }
  const fixed = result.fixes.length ? ` Repaired: ${result.fixes.join("; ")}.` : "";
  $("render-result").innerHTML = `Playable.${escape(fixed)} Download: ` + [["mid", "MIDI"], ["abc", "ABC"], ["musicxml", "MusicXML"], ["svg", "score"]]
    .map(([k, label]) => `<a href="${result.files[k]}" data-key="${k}" download="${escape(result.slug)}.${k}">${label}</a>`).join(" · ");
  $("render-result").querySelectorAll("a").forEach(a => a.onclick = (ev) => download(ev, a));
};

// ---- variations of one picture ---------------------------------------------------------
$("vary").onclick = async () => {
  if (!state.job) return;
  $("error").textContent = ""; clearStages();
  const response = await api(`/api/compositions/${state.job.id}/variations`, {method: "POST"});
  if (!response.ok) { $("error").textContent = await problem(response); return; }
  follow((await response.json()).id);
};
async function showVariations(job) {
  const response = await api(`/api/compositions/${job.id}/variations`);
  if (!response.ok) return;
  const done = (await response.json()).filter(j => j.status === "done");
  $("variations-card").hidden = done.length < 2;
  if (done.length < 2) { $("variations").innerHTML = ""; return; }
  const cards = await Promise.all(done.map(async j => {
    const v = await (await api(`/api/compositions/${j.id}/view`)).json();
    const audio = await blobUrl(j.files.ogg || j.files.wav);
    const s = v.summary;
    return `<div class="variation${j.id === job.id ? " current" : ""}"><strong>${escape(v.title)}</strong> <span class="muted small">seed ${j.seed}</span>
      <div class="small">${escape([s.key, s.meter, s.tempo, s.length].filter(Boolean).join(" · "))}</div>
      <audio controls preload="none" src="${audio}" aria-label="${escape(v.title)}, seed ${j.seed}"></audio>
      <button type="button" data-open="${j.id}">Open</button></div>`;
  }));
  $("variations").innerHTML = cards.join("");
  $("variations").querySelectorAll("[data-open]").forEach(b => b.onclick = () => openComposition(b.dataset.open));
}

// ---- history and permalinks -------------------------------------------------------------
async function openComposition(id) {
  const response = await api(`/api/compositions/${id}`);
  if (!response.ok) { $("error").textContent = await problem(response); return; }
  const job = await response.json();
  clearStages(); $("error").textContent = "";
  if (job.status === "done") { show(job); window.history.replaceState(null, "", `/c/${id}`); }
  else if (job.status === "failed") $("error").textContent = `failed at ${job.stage}: ${job.error}`;
  else follow(id);
}
async function loadHistory() {
  const response = await api("/api/compositions");
  if (!response.ok) return;
  const jobs = await response.json();
  $("history").innerHTML = "";
  for (const j of jobs) {
    const li = document.createElement("li");
    const when = new Date(j.created * 1000).toLocaleString();
    const title = j.title || (j.status === "done" ? "Untitled" : j.status);
    li.innerHTML = `<img alt="" hidden><div class="what"><a href="/c/${j.id}" data-id="${j.id}">${escape(title)}</a>
      <div class="muted small">${escape(j.name || "picture")} · ${escape(when)} · seed ${j.seed}${j.status === "failed" ? " · failed at " + escape(j.stage) : ""}${j.prompt ? " · “" + escape(j.prompt) + "”" : ""}</div></div>
      <button type="button" class="delete" aria-label="Delete ${escape(title)}">Delete</button>`;
    li.querySelector("a").onclick = (ev) => { ev.preventDefault(); openComposition(j.id); };
    li.querySelector(".delete").onclick = async () => {
      const r = await api(`/api/compositions/${j.id}`, {method: "DELETE"});
      if (!r.ok) { $("error").textContent = await problem(r); return; }
      if (state.job && state.job.id === j.id) { $("result").hidden = true; state.job = null; }
      li.remove();
    };
    if (j.files && j.files.thumb) blobUrl(j.files.thumb).then(u => { const img = li.querySelector("img"); if (u) { img.src = u; img.hidden = false; } });
    $("history").append(li);
  }
}
const permalink = location.pathname.match(/^\/c\/([0-9a-f]+)$/);
loadChoices(); loadHistory();
if (permalink) openComposition(permalink[1]);
window.pictune = {api, show, follow, openComposition, state};
