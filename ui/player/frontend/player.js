/* gaitscope player: holds the clip in the browser, steps frame by frame, talks to Streamlit only for edits.
   Protocol: Streamlit custom components v1 (postMessage), no build step. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const vid = $("vid"), view = $("view"), tl = $("timeline"), plotCv = $("plot");
  const SPEEDS = [0.125, 0.25, 0.5, 1];
  const S = {
    data: null, url: null, objUrl: null, ready: false, cur: 0, shown: -1, target: 0, seeking: false,
    seekingTo: -1, playing: false, speed: 0.25, foot: "any", ov: { skel: true, shin: true, over: true, ic: true },
    seekNonce: undefined, pendingT0: null, lat: [], sent: 0, W: 0, H: 0,
  };
  window.gsPlayer = S;

  // -- Streamlit protocol ----------------------------------------------------------------------
  function send(type, extra) { window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type }, extra || {}), "*"); }
  let lastH = 0;
  function setHeight() {
    const h = Math.ceil(document.getElementById("app").getBoundingClientRect().height) + 4;
    if (Math.abs(h - lastH) > 1) { lastH = h; send("streamlit:setFrameHeight", { height: h }); }
  }
  function request(action, extra) {
    S.sent += 1;
    $("busy").textContent = "saving…";
    send("streamlit:setComponentValue", { value: Object.assign({ action, frame: S.cur, nonce: `${Date.now()}-${S.sent}` }, extra || {}), dataType: "json" });
  }

  // -- frames --------------------------------------------------------------------------------
  const clamp = (i) => Math.max(0, Math.min((S.data ? S.data.n : 1) - 1, Math.round(i)));
  function go(i, t0) {
    if (!S.data) return;
    if (S.playing) pause();
    S.cur = S.target = clamp(i);
    if (t0 !== undefined) S.pendingT0 = t0;
    try { sessionStorage.setItem("gs-frame-" + S.data.id, String(S.cur)); } catch (e) { /* private mode */ }
    refreshUi();
    requestSeek();
  }
  function requestSeek() {
    if (!S.ready || S.seeking) return;
    if (S.shown === S.target) { paint(); return; }
    S.seeking = true; S.seekingTo = S.target;
    vid.currentTime = (S.target + 0.5) / S.data.fps;
  }
  vid.addEventListener("seeked", () => {
    if (S.playing) return;
    S.seeking = false; S.shown = S.seekingTo;
    if (S.target !== S.shown) { requestSeek(); return; }
    paint();
  });
  function paint() {
    const ctx = view.getContext("2d");
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.drawImage(vid, 0, 0, S.W, S.H);
    window.GSDraw.frame(ctx, S, S.shown, S.W, S.H);
    if (S.pendingT0 !== null) {
      const t0 = S.pendingT0; S.pendingT0 = null;
      requestAnimationFrame(() => { S.lat.push(performance.now() - t0); });
    }
  }

  // -- playback (rate relative to real time) --------------------------------------------------
  function rate() { return Math.max(0.0625, Math.min(16, S.speed / (S.data.time_scale || 1))); }
  function play() {
    if (!S.ready || S.playing) return;
    if (S.cur >= S.data.n - 1) go(0);
    S.playing = true; $("bPlay").textContent = "||";
    vid.playbackRate = rate();
    const onFrame = (now, md) => {
      if (!S.playing) return;
      S.cur = S.target = S.shown = clamp(md.mediaTime * S.data.fps);
      paint(); refreshUi();
      vid.requestVideoFrameCallback(onFrame);
    };
    if (vid.requestVideoFrameCallback) vid.requestVideoFrameCallback(onFrame);
    vid.play().catch(() => pause());
  }
  function pause() {
    if (!S.playing) return;
    S.playing = false; vid.pause(); $("bPlay").textContent = "▶";
    S.shown = -1; S.target = S.cur; S.seeking = false; requestSeek();
  }
  vid.addEventListener("ended", () => { if (S.playing) pause(); });
  function setSpeed(v) {
    S.speed = v; if (S.playing) vid.playbackRate = rate();
    for (const b of document.querySelectorAll("#speedSeg [data-speed]")) b.classList.toggle("on", +b.dataset.speed === v);
    $("speedNote").textContent = `(${v === 1 ? "real time" : "1/" + Math.round(1 / v) + " speed"})`;
  }

  // -- strikes -------------------------------------------------------------------------------
  function strikes(foot) { return S.data.strikes.filter((s) => foot === "any" || s.foot === foot); }
  function nextStrike(dir, foot, t0) {
    const list = strikes(foot || S.foot);
    const c = dir > 0 ? list.filter((s) => s.ic_frame > S.cur) : list.filter((s) => s.ic_frame < S.cur);
    if (!c.length) return;
    go(dir > 0 ? c[0].ic_frame : c[c.length - 1].ic_frame, t0);
  }
  /** The strike an edit applies to: the nearest one (of the chosen foot) within half a second. */
  function selected() {
    if (!S.data) return null;
    let best = null, bd = 1e9;
    for (const s of strikes(S.foot)) { const d = Math.abs(s.ic_frame - S.cur); if (d < bd) { best = s; bd = d; } }
    const win = Math.max(3, Math.round(0.5 * S.data.fps / (S.data.time_scale || 1)));
    return best && bd <= win ? best : null;
  }
  const f1 = (v, nd, u) => (v === null || v === undefined) ? "–" : (+v).toFixed(nd) + (u || "");
  function card() {
    const st = selected(), el = $("card");
    $("bMove").disabled = $("bReject").disabled = !st;
    if (!st) { el.innerHTML = `<div class="glbl">Selected strike</div><div class="dim">No strike within half a second. Step to one (, .) or add one here.</div>`; return; }
    const d = S.cur - st.ic_frame, col = st.foot === "left" ? "var(--left)" : "var(--right)";
    const tags = (st.edited ? `<span class="tag edited">edited</span> ` : "") + (st.rejected ? `<span class="tag rejected">rejected</span> ` : "")
      + (st.flags || []).map((f) => `<span class="tag flag">${String(f).replace(/[<>&]/g, "")}</span>`).join(" ");
    const os = st.overstride_cm !== null && st.overstride_cm !== undefined ? f1(st.overstride_cm, 1, " cm") : f1(st.overstride === null ? null : st.overstride * 100, 0, " % leg");
    el.innerHTML = `<div class="glbl">Selected strike</div>
      <div class="hd"><span class="sid" style="color:${col}">${st.foot.toUpperCase()} · frame ${st.ic_frame}</span><span class="dim">${d === 0 ? "at contact" : (d > 0 ? "+" : "") + d + " fr"}</span></div>
      <table><tr><td>shin angle</td><td class="v">${f1(st.shin_angle_deg, 1, "°")}</td><td>&nbsp;knee</td><td class="v">${f1(st.knee_flexion_deg, 0, "°")}</td></tr>
      <tr><td>overstride</td><td class="v">${os}</td><td>&nbsp;foot</td><td class="v">${f1(st.foot_angle_deg, 0, "°")}</td></tr>
      <tr><td>pattern</td><td class="v">${st.strike_pattern || "–"}</td><td>&nbsp;conf.</td><td class="v">${f1(st.confidence, 2)}</td></tr></table>
      <div>${tags}</div>`;
    $("bReject").textContent = st.rejected ? "Restore" : "Reject";
  }

  // -- UI refresh ----------------------------------------------------------------------------
  function refreshUi() {
    const D = S.data; if (!D) return;
    $("frameNo").textContent = String(S.cur);
    $("frameTot").textContent = `/ ${D.n - 1}`;
    const t = D.t[S.cur]; $("timeS").textContent = t === null || t === undefined ? "–" : t.toFixed(3);
    const at = D.strikes.filter((s) => s.ic_frame === S.cur);
    $("evt").innerHTML = at.length ? at.map((s) => `<span class="ic">IC ${s.foot === "left" ? "L" : "R"}</span>${s.rejected ? " rejected" : ""}`).join(" ") : "&nbsp;";
    window.GSCharts.timeline(tl, D, S.cur);
    window.GSCharts.plot(plotCv, D, S.cur);
    if (!S.playing) card();
  }
  function layout() {
    if (!S.data) return;
    const stage = $("stage"), side = $("side");
    const stacked = window.innerWidth < 720;
    const availW = stacked ? stage.clientWidth : Math.max(200, document.body.clientWidth - side.offsetWidth - 30);
    let viewH = 900;
    try { viewH = window.parent.innerHeight || viewH; } catch (e) { /* cross-origin parent */ }
    const [w, h] = S.data.size, maxH = Math.max(360, Math.min(960, viewH * 0.78));
    const sc = Math.min(availW / w, maxH / h);
    S.W = Math.floor(w * sc); S.H = Math.floor(h * sc);
    const dpr = window.devicePixelRatio || 1;
    view.width = Math.round(S.W * dpr); view.height = Math.round(S.H * dpr);
    view.style.width = S.W + "px"; view.style.height = S.H + "px";
    stage.style.minHeight = Math.max(S.H, side.offsetHeight) + "px";
    if (S.ready && S.shown >= 0) paint();
    refreshUi(); setHeight();
  }

  // -- loading -------------------------------------------------------------------------------
  function status(msg, err) { const el = $("loading"); el.textContent = msg; el.className = msg ? (err ? "err" : "") : "hidden"; }
  async function load(url) {
    S.url = url; S.ready = false; S.shown = -1;
    status("Loading the clip into the player…");
    try {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const total = +r.headers.get("content-length") || 0, reader = r.body.getReader(), parts = [];
      let got = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value); got += value.length;
        status(`Loading the clip into the player… ${total ? Math.round(100 * got / total) + " %" : (got / 1e6).toFixed(0) + " MB"}`);
      }
      if (url !== S.url) return;
      if (S.objUrl) URL.revokeObjectURL(S.objUrl);
      S.objUrl = URL.createObjectURL(new Blob(parts, { type: "video/mp4" }));
      vid.src = S.objUrl;
    } catch (e) {
      status(`The player could not load the clip (${e.message}). Reload the page.`, true);
    }
  }
  vid.addEventListener("loadeddata", () => { S.ready = true; status(""); S.shown = -1; S.seeking = false; requestSeek(); });
  vid.addEventListener("error", () => status("This browser cannot play the player's video (H.264). Try Chrome, Edge, Firefox or Safari.", true));

  function onRender(args) {
    const D = args.data, first = !S.data || S.data.id !== D.id;
    S.data = D;
    if (first) {
      let f = 0;
      try { f = +sessionStorage.getItem("gs-frame-" + D.id) || 0; const o = JSON.parse(localStorage.getItem("gs-overlays") || "null"); if (o) Object.assign(S.ov, o); } catch (e) { /* storage off */ }
      S.cur = S.target = clamp(f);
      for (const cb of document.querySelectorAll("#ovl input")) cb.checked = !!S.ov[cb.dataset.ov];
    } else { S.cur = S.target = clamp(S.cur); }
    $("busy").innerHTML = "&nbsp;";
    const sk = args.seek || {};
    if (sk.nonce !== undefined && sk.nonce !== S.seekNonce) { S.seekNonce = sk.nonce; S.cur = S.target = clamp(sk.frame); }
    if (args.video && args.video !== S.url) load(args.video);
    layout();
    if (S.ready) { if (S.shown === S.target) paint(); else requestSeek(); }
  }
  window.addEventListener("message", (ev) => { if (ev.data && ev.data.type === "streamlit:render") onRender(ev.data.args || {}); });
  window.addEventListener("resize", layout);

  // -- controls ------------------------------------------------------------------------------
  const now = () => performance.now();
  const click = (id, fn) => $(id).addEventListener("click", (e) => fn(e));
  click("bBack1", () => go(S.cur - 1, now())); click("bFwd1", () => go(S.cur + 1, now()));
  click("bBack10", () => go(S.cur - 10, now())); click("bFwd10", () => go(S.cur + 10, now()));
  click("bPrevStrike", () => nextStrike(-1, null, now())); click("bNextStrike", () => nextStrike(1, null, now()));
  click("bPlay", () => (S.playing ? pause() : play()));
  click("bMove", () => { const s = selected(); if (s && s.ic_frame !== S.cur) request("move", { strike_id: s.id, foot: s.foot }); });
  click("bReject", () => { const s = selected(); if (s) request(s.rejected ? "restore" : "reject", { strike_id: s.id, foot: s.foot }); });
  click("bAddL", () => request("add", { foot: "left" })); click("bAddR", () => request("add", { foot: "right" }));
  click("bUndo", () => request("undo"));
  for (const b of document.querySelectorAll("#footSeg [data-foot]")) b.addEventListener("click", () => {
    S.foot = b.dataset.foot; for (const o of document.querySelectorAll("#footSeg [data-foot]")) o.classList.toggle("on", o === b); refreshUi();
  });
  for (const b of document.querySelectorAll("#speedSeg [data-speed]")) b.addEventListener("click", () => setSpeed(+b.dataset.speed));
  for (const cb of document.querySelectorAll("#ovl input")) cb.addEventListener("change", () => {
    S.ov[cb.dataset.ov] = cb.checked; try { localStorage.setItem("gs-overlays", JSON.stringify(S.ov)); } catch (e) { /* */ }
    if (S.ready && S.shown >= 0) paint();
  });
  for (const cv of [tl, plotCv]) {
    let down = false;
    const seek = (e) => { const r = cv.getBoundingClientRect(); go(window.GSCharts.frameAt(S.data, e.clientX - r.left, r.width), now()); };
    cv.addEventListener("pointerdown", (e) => { if (!S.data) return; down = true; cv.setPointerCapture(e.pointerId); seek(e); });
    cv.addEventListener("pointermove", (e) => { if (down) seek(e); });
    cv.addEventListener("pointerup", () => { down = false; });
  }

  // -- keyboard (this frame and the page around it) -------------------------------------------
  function onKey(e) {
    const t = e.target;
    if (!S.data || e.ctrlKey || e.metaKey) return;
    if (t && t.closest && (t.closest("input, textarea, select, [contenteditable=true], [data-testid=stDataFrame], [role=grid]"))) return;
    const k = e.key, t0 = now();
    let done = true;
    if (k === "ArrowRight") go(S.cur + (e.shiftKey ? 10 : 1), t0);
    else if (k === "ArrowLeft") go(S.cur - (e.shiftKey ? 10 : 1), t0);
    else if (k === "." || k === "k" || k === "K") nextStrike(1, null, t0);
    else if (k === "," || k === "j" || k === "J") nextStrike(-1, null, t0);
    else if (e.code === "KeyL") { if (e.shiftKey) $("bAddL").click(); else nextStrike(e.altKey ? -1 : 1, "left", t0); }
    else if (e.code === "KeyR") { if (e.shiftKey) $("bAddR").click(); else nextStrike(e.altKey ? -1 : 1, "right", t0); }
    else if (k === " ") (S.playing ? pause() : play());
    else if (k === "[" || k === "]") setSpeed(SPEEDS[Math.max(0, Math.min(3, SPEEDS.indexOf(S.speed) + (k === "]" ? 1 : -1)))]);
    else if (e.code === "KeyM") $("bMove").click();
    else if (e.code === "KeyX" || k === "Delete") $("bReject").click();
    else if (e.code === "KeyZ") $("bUndo").click();
    else done = false;
    if (done) { e.preventDefault(); e.stopPropagation(); }
  }
  document.addEventListener("keydown", onKey, true);
  try {
    const pw = window.parent;
    if (pw !== window && pw.document) {
      pw.addEventListener("keydown", onKey, true);
      window.addEventListener("pagehide", () => pw.removeEventListener("keydown", onKey, true));
    }
  } catch (e) { /* a cross-origin parent: keys work when the player has focus */ }

  setSpeed(0.25);
  send("streamlit:componentReady", { apiVersion: 1 });
})();
