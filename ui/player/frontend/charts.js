/* gaitscope player: the strike timeline and the foot-height plot, sharing one frame axis with a cursor. */
(function () {
  "use strict";
  const C = { left: "#56b4e9", right: "#e69f00", rejected: "#969696", accent: "#f0e442", edited: "#cc79a7",
              grid: "#232830", text: "#8b94a1", bg: "#0f1216" };
  const M = { l: 46, r: 10 };

  function setup(cv, cssH) {
    const dpr = window.devicePixelRatio || 1, w = cv.clientWidth || cv.parentNode.clientWidth;
    if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(cssH * dpr)) {
      cv.width = Math.round(w * dpr); cv.height = Math.round(cssH * dpr); cv.style.height = cssH + "px";
    }
    const ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { ctx, w, h: cssH };
  }

  function xOf(D, f, w) { return M.l + (D.n > 1 ? f / (D.n - 1) : 0) * (w - M.l - M.r); }
  function frameAt(D, x, w) {
    return Math.max(0, Math.min(D.n - 1, Math.round((x - M.l) / (w - M.l - M.r) * (D.n - 1))));
  }

  function cursor(ctx, D, cur, w, h) {
    const x = xOf(D, cur, w);
    ctx.strokeStyle = C.accent; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, h); ctx.stroke();
  }

  /** Two lanes (L, R): contact spans, IC ticks, edited and rejected marks, cursor. */
  function timeline(cv, D, cur) {
    const { ctx, w, h } = setup(cv, 50);
    ctx.fillStyle = C.bg; ctx.fillRect(0, 0, w, h);
    const lanes = { left: [5, 20], right: [27, 20] };
    ctx.font = "11px ui-monospace, Menlo, Consolas, monospace"; ctx.textBaseline = "middle";
    for (const side of ["left", "right"]) {
      const [y, lh] = lanes[side];
      ctx.fillStyle = "#161a20"; ctx.fillRect(M.l, y, w - M.l - M.r, lh);
      ctx.fillStyle = C[side]; ctx.fillText(side === "left" ? "L" : "R", 8, y + lh / 2);
      ctx.fillStyle = C.text; ctx.fillText(side === "left" ? "left" : "right", 18, y + lh / 2);
    }
    for (const st of D.strikes) {
      const [y, lh] = lanes[st.foot];
      const col = st.rejected ? C.rejected : C[st.foot];
      const x0 = xOf(D, st.ic_frame, w);
      if (st.toe_off_frame !== null && st.toe_off_frame !== undefined) {
        ctx.globalAlpha = st.rejected ? 0.2 : 0.35; ctx.fillStyle = col;
        ctx.fillRect(x0, y + 3, Math.max(1, xOf(D, st.toe_off_frame, w) - x0), lh - 6); ctx.globalAlpha = 1;
      }
      ctx.strokeStyle = col; ctx.lineWidth = 2.5;
      if (st.rejected) ctx.setLineDash([3, 2]);
      ctx.beginPath(); ctx.moveTo(x0, y); ctx.lineTo(x0, y + lh); ctx.stroke(); ctx.setLineDash([]);
      if (st.edited) {
        ctx.fillStyle = C.edited; ctx.beginPath();
        ctx.moveTo(x0, y - 1); ctx.lineTo(x0 + 4, y + 4); ctx.lineTo(x0, y + 9); ctx.lineTo(x0 - 4, y + 4); ctx.fill();
      }
    }
    cursor(ctx, D, cur, w, h);
  }

  function niceStep(span, target) {
    const raw = span / Math.max(1, target), p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }

  /** Foot height above the belt over time, contacts (▼) and toe-offs (△), time axis, cursor. */
  function plot(cv, D, cur) {
    const { ctx, w, h } = setup(cv, 150);
    const top = 16, bot = h - 20;
    ctx.fillStyle = C.bg; ctx.fillRect(0, 0, w, h);
    const cm = D.px_per_cm ? 1 / D.px_per_cm : null, unit = cm ? "cm" : "px";
    const vals = [];
    for (const side of ["left", "right"]) for (const v of D.foot_height[side]) if (v !== null) vals.push(cm ? v * cm : v);
    vals.sort((a, b) => a - b);
    const lo = Math.min(0, vals.length ? vals[Math.floor(vals.length * 0.01)] : 0);
    const hi = vals.length ? vals[Math.floor(vals.length * 0.99)] * 1.08 : 1;
    const yOf = (v) => bot - (v - lo) / ((hi - lo) || 1) * (bot - top);
    ctx.font = "10px ui-monospace, Menlo, Consolas, monospace"; ctx.fillStyle = C.text;
    ctx.textBaseline = "middle"; ctx.textAlign = "right";
    const ys = niceStep(hi - lo, 4);
    for (let v = Math.ceil(lo / ys) * ys; v <= hi; v += ys) {
      const y = yOf(v); ctx.strokeStyle = C.grid; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(M.l, y); ctx.lineTo(w - M.r, y); ctx.stroke(); ctx.fillText(String(+v.toFixed(1)), M.l - 5, y);
    }
    ctx.textAlign = "left"; ctx.fillText(`foot height above belt (${unit})`, M.l + 4, 7);
    const tEnd = D.t[D.n - 1] || 1, ts = niceStep(tEnd, 10);
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (let t = 0; t <= tEnd + 1e-9; t += ts) {
      let f = 0; while (f < D.n - 1 && D.t[f] !== null && D.t[f] < t) f++;
      const x = xOf(D, f, w); ctx.strokeStyle = C.grid; ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bot); ctx.stroke();
      ctx.textAlign = t === 0 ? "left" : "center";
      ctx.fillText(`${+t.toFixed(2)} s`, t === 0 ? x - 2 : x, bot + 4);
    }
    for (const side of ["left", "right"]) {
      ctx.strokeStyle = C[side]; ctx.lineWidth = 1.6; ctx.beginPath();
      let pen = false; const a = D.foot_height[side];
      for (let f = 0; f < D.n; f++) {
        const v = a[f];
        if (v === null) { pen = false; continue; }
        const x = xOf(D, f, w), y = yOf(cm ? v * cm : v);
        if (!pen) { ctx.moveTo(x, y); pen = true; } else ctx.lineTo(x, y);
      }
      ctx.stroke();
    }
    for (const st of D.strikes) {
      const col = st.rejected ? C.rejected : C[st.foot], a = D.foot_height[st.foot];
      const mark = (f, down) => {
        if (f === null || f === undefined || a[f] === null) return;
        const x = xOf(D, f, w), y = yOf(cm ? a[f] * cm : a[f]);
        ctx.beginPath();
        if (down) { ctx.moveTo(x - 5, y - 10); ctx.lineTo(x + 5, y - 10); ctx.lineTo(x, y - 2); ctx.closePath(); ctx.fillStyle = col; ctx.fill(); }
        else { ctx.moveTo(x - 4, y + 10); ctx.lineTo(x + 4, y + 10); ctx.lineTo(x, y + 3); ctx.closePath(); ctx.strokeStyle = col; ctx.lineWidth = 1.3; ctx.stroke(); }
      };
      mark(st.ic_frame, true); mark(st.toe_off_frame, false);
    }
    cursor(ctx, D, cur, w, h);
  }

  window.GSCharts = { timeline, plot, frameAt };
})();
