// Revise a piece in words (issue 18): a box under a finished piece, the request's verdicts,
// and the revision chain as a timeline with a player for each version. It hooks into the
// page only through window.pictune (api, follow, openComposition, state), the
// "pictune:shown" event and #extensions, so the page itself stays as it is.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const escape = (text) => { const d = document.createElement("div"); d.textContent = text == null ? "" : String(text); return d.innerHTML; };
  const VERDICT = {true: ["ok", "honoured"], false: ["bad", "not honoured"], null: ["unk", "not checkable"]};
  const card = document.createElement("div");
  card.className = "card"; card.id = "revise-card";
  card.innerHTML = `<h3>Revise this piece</h3>
    <form id="revise-form" class="row">
      <label for="revise-request">Say what to change (what you do not mention is kept)</label>
      <input id="revise-request" maxlength="500" placeholder="e.g. slower, in a minor key, and give the tune to the cello">
      <button type="submit" id="revise-go">Revise</button></form>
    <p id="revise-note" class="muted small" aria-live="polite"></p>
    <div id="revise-checks"></div>
    <h3>Versions</h3><ol id="revise-timeline" aria-label="Versions of this piece, oldest first"></ol>`;
  $("extensions").append(card);

  async function problem(response) {
    try { const p = await response.json(); return p.detail || p.title; } catch (e) { return response.statusText; }
  }
  async function job(id) {
    const response = await window.pictune.api(`/api/compositions/${id}`);
    return response.ok ? response.json() : null;
  }
  async function audio(j) {
    const url = j.files && (j.files.ogg || j.files.wav);
    if (!url) return "";
    const response = await window.pictune.api(url);
    return response.ok ? URL.createObjectURL(await response.blob()) : "";
  }
  function checks(lineage) {
    if (!lineage) return "";
    const rows = (lineage.checks || []).map(c => {
      const [cls, word] = VERDICT[c.honoured];
      return `<tr class="${cls}"><td>${escape(c.words)}</td><td>${escape(c.aspect)}</td><td>${escape(c.before)} → ${escape(c.found)}</td><td>${word}</td></tr>`;
    }).join("");
    const changed = (lineage.changes || []).map(escape).join("; ") || "nothing in the music";
    const unused = (lineage.unused || []).length ? `<p class="muted small">No effect: ${(lineage.unused || []).map(escape).join(", ")}</p>` : "";
    return `<p>Asked: <q>${escape(lineage.request)}</q>. Changed: ${changed}.</p>${unused}` +
      (rows ? `<table id="revise-verdicts"><tr><th>asked</th><th>aspect</th><th>before → now</th><th>verdict</th></tr>${rows}</table>` : "");
  }
  // The chain: every ancestor up to the original, this version, then its revisions.
  async function timeline(current) {
    const chain = [current];
    for (let at = current; at.lineage && at.lineage.parent && chain.length < 50;) {
      at = await job(at.lineage.parent);
      if (!at) break;
      chain.unshift(at);
    }
    const children = (await Promise.all((current.revisions || []).map(job))).filter(Boolean);
    const items = await Promise.all([...chain, ...children].map(async j => {
      const label = j.lineage ? `“${escape(j.lineage.request)}”` : "original";
      const checked = ((j.lineage && j.lineage.checks) || []).filter(c => c.honoured !== null);
      const honoured = checked.filter(c => c.honoured).length;
      const verdict = checked.length ? ` · ${honoured} of ${checked.length} honoured` : "";
      const player = j.status === "done" ? `<audio controls preload="none" src="${await audio(j)}" aria-label="version: ${escape(j.lineage ? j.lineage.request : "original")}"></audio>` : `<span class="muted small">${escape(j.status)}</span>`;
      const here = j.id === current.id ? ' aria-current="true" class="current"' : "";
      return `<li${here}><strong>${label}</strong><span class="muted small">${verdict}</span> ${player}
        <a href="/c/${j.id}" data-open="${j.id}" aria-label="Open the version: ${escape(j.lineage ? j.lineage.request : "original")}">Open</a></li>`;
    }));
    $("revise-timeline").innerHTML = items.join("");
    $("revise-timeline").querySelectorAll("[data-open]").forEach(a => a.onclick = (ev) => {
      ev.preventDefault(); window.pictune.openComposition(a.dataset.open);
    });
  }
  document.addEventListener("pictune:shown", async (ev) => {
    const current = await job(ev.detail.job.id) || ev.detail.job;
    $("revise-checks").innerHTML = checks(current.lineage);
    $("revise-note").textContent = "";
    $("revise-go").disabled = false;
    await timeline(current);
  });
  $("revise-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const request = $("revise-request").value.trim();
    const current = window.pictune.state.job;
    if (!request || !current) return;
    $("revise-go").disabled = true; $("revise-note").textContent = "revising…";
    const response = await window.pictune.api(`/api/compositions/${current.id}/revisions`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({request}),
    });
    if (!response.ok) { $("revise-note").textContent = await problem(response); $("revise-go").disabled = false; return; }
    $("revise-request").value = "";
    window.pictune.follow((await response.json()).id);
  };
})();
