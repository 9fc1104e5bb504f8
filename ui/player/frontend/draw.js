/* gaitscope player: the analysis drawn over a video frame (legs, shin angle, overstride, contact marker). */
(function () {
  "use strict";
  const COL = { left: "#56b4e9", right: "#e69f00", rejected: "#969696", accent: "#f0e442", ref: "#ffffff",
                edited: "#cc79a7" };
  const P = { hip: 0, knee: 1, ankle: 2, heel: 3, toe: 4 };

  function pt(D, side, i, k, s) {
    const a = D.legs[side], o = i * 10 + k * 2;
    const x = a[o], y = a[o + 1];
    return (x === null || y === null || x === undefined) ? null : [x * s, y * s];
  }

  function line(ctx, pts, color, w) {
    const ok = pts.filter(Boolean);
    if (ok.length < 2) return;
    for (const [c, lw] of [["rgba(0,0,0,.85)", w + 2.5], [color, w]]) {
      ctx.strokeStyle = c; ctx.lineWidth = lw; ctx.beginPath();
      let started = false;
      for (const p of pts) {
        if (!p) { started = false; continue; }
        if (!started) { ctx.moveTo(p[0], p[1]); started = true; } else ctx.lineTo(p[0], p[1]);
      }
      ctx.stroke();
    }
  }

  function dot(ctx, p, r, color) {
    if (!p) return;
    ctx.fillStyle = "rgba(0,0,0,.85)"; ctx.beginPath(); ctx.arc(p[0], p[1], r + 1.5, 0, 7); ctx.fill();
    ctx.fillStyle = color; ctx.beginPath(); ctx.arc(p[0], p[1], r, 0, 7); ctx.fill();
  }

  function label(ctx, text, x, y, color, size, align) {
    ctx.font = `600 ${size}px ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace`;
    const w = ctx.measureText(text).width, h = size + 6;
    const x0 = align === "right" ? x - w - 10 : x;
    ctx.fillStyle = "rgba(10,12,15,.78)"; ctx.fillRect(x0, y - h + 3, w + 10, h);
    ctx.fillStyle = color; ctx.textBaseline = "alphabetic"; ctx.fillText(text, x0 + 5, y - 1);
  }

  function dashed(ctx, a, b, color, w) {
    ctx.save(); ctx.setLineDash([5, 4]); ctx.strokeStyle = "rgba(0,0,0,.7)"; ctx.lineWidth = w + 2;
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    ctx.strokeStyle = color; ctx.lineWidth = w; ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
    ctx.stroke(); ctx.restore();
  }

  function fmt(v, nd, unit) { return (v === null || v === undefined) ? "–" : (+v).toFixed(nd) + (unit || ""); }

  /** Shin line with plumb line, arc and angle text for one leg. */
  function shin(ctx, D, side, i, s, color, u, emphasise, angleAtIc) {
    const k = pt(D, side, i, P.knee, s), a = pt(D, side, i, P.ankle, s);
    if (!k || !a) return;
    const len = Math.hypot(a[0] - k[0], a[1] - k[1]);
    line(ctx, [k, a], color, emphasise ? 5 * u : 3 * u);
    if (!emphasise) return;
    const plumb = [k[0], k[1] + len];
    dashed(ctx, k, plumb, COL.ref, 1.5 * u);
    const ang = Math.atan2(a[0] - k[0], a[1] - k[1]);  // from straight down, + = ankle to image-right
    const r = Math.min(len * 0.45, 46 * u);
    ctx.strokeStyle = COL.accent; ctx.lineWidth = 2 * u; ctx.beginPath();
    ctx.arc(k[0], k[1], r, Math.PI / 2, Math.PI / 2 - ang, ang > 0); ctx.stroke();
    const v = angleAtIc !== undefined ? angleAtIc : (D.shin[side] ? D.shin[side][i] : null);
    if (v !== null && v !== undefined) {
      const toRight = (a[0] >= k[0]);
      label(ctx, `shin ${v >= 0 ? "+" : ""}${(+v).toFixed(1)}°`, k[0] + (toRight ? 14 : -14) * u,
            k[1] + r * 0.9, COL.accent, 13 * u, toRight ? "left" : "right");
    }
  }

  /** The pelvis point overstride is measured from: mid-hip when both hips are seen (as metrics/kinematics.py). */
  function pelvis(D, side, i, s) {
    const a = pt(D, "left", i, P.hip, s), b = pt(D, "right", i, P.hip, s);
    return (a && b) ? [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] : pt(D, side, i, P.hip, s);
  }

  /** Hip drop line and hip-to-heel distance at a contact frame. */
  function overstride(ctx, D, st, i, s, u) {
    const side = st.foot;
    const h = pelvis(D, side, i, s), he = pt(D, side, i, P.heel, s);
    if (!h || !he) return;
    const base = [h[0], he[1]];
    dashed(ctx, h, base, COL.ref, 1.5 * u);
    const col = st.rejected ? COL.rejected : COL.accent;
    ctx.strokeStyle = "rgba(0,0,0,.8)"; ctx.lineWidth = 5 * u; ctx.beginPath();
    ctx.moveTo(base[0], base[1]); ctx.lineTo(he[0], he[1]); ctx.stroke();
    ctx.strokeStyle = col; ctx.lineWidth = 2.5 * u; ctx.beginPath();
    ctx.moveTo(base[0], base[1]); ctx.lineTo(he[0], he[1]); ctx.stroke();
    for (const p of [base, he]) { ctx.beginPath(); ctx.moveTo(p[0], p[1] - 7 * u); ctx.lineTo(p[0], p[1] + 7 * u); ctx.stroke(); }
    let txt = "overstride ";
    if (st.overstride_cm !== null && st.overstride_cm !== undefined) txt += fmt(st.overstride_cm, 1, " cm");
    else if (st.overstride !== null && st.overstride !== undefined) txt += fmt(st.overstride * 100, 0, " % leg");
    else txt += "–";
    const mid = (base[0] + he[0]) / 2;
    label(ctx, txt, mid - 60 * u, he[1] + 26 * u, col, 13 * u);
  }

  /** The strike to annotate at frame i: a strike whose contact window holds i (IC frame first). */
  function activeStrike(D, i) {
    let best = null, bestD = 1e9;
    for (const st of D.strikes) {
      const d = i - st.ic_frame;
      if (d < -2) continue;
      const end = st.toe_off_frame !== null && st.toe_off_frame !== undefined ? st.toe_off_frame - st.ic_frame : 6;
      if (d > end) continue;
      const score = Math.abs(d);
      if (score < bestD) { best = st; bestD = score; }
    }
    return best;
  }

  function frame(ctx, S, i, W, H) {
    const D = S.data;
    if (!D || i < 0) return;
    const s = W / D.size[0], u = Math.max(0.7, Math.min(1.6, W / 640));
    const near = D.near || "left", far = near === "left" ? "right" : "left";
    const act = activeStrike(D, i);
    const atIc = act && act.ic_frame === i;
    if (S.ov.skel) {
      for (const side of [far, near]) {
        const c = COL[side], w = (side === near ? 3 : 2) * u;
        const g = (k) => pt(D, side, i, k, s);
        ctx.globalAlpha = side === near ? 1 : 0.75;
        line(ctx, [g(P.hip), g(P.knee), g(P.ankle)], c, w);
        line(ctx, [g(P.ankle), g(P.heel), g(P.toe), g(P.ankle)], c, w * 0.8);
        for (const k of [P.hip, P.knee, P.ankle, P.heel, P.toe]) dot(ctx, g(k), (k === P.knee ? 4 : 3) * u, c);
        ctx.globalAlpha = 1;
      }
    }
    if (S.ov.shin) {
      const focus = act ? act.foot : near;
      for (const side of [far, near]) {
        if (side === focus) continue;
        if (!S.ov.skel) shin(ctx, D, side, i, s, COL[side], u, false);
      }
      shin(ctx, D, focus, i, s, act && act.rejected ? COL.rejected : COL[focus], u, true,
           atIc && act.shin_angle_deg !== null ? act.shin_angle_deg : undefined);
    }
    if (S.ov.over && act && Math.abs(i - act.ic_frame) <= 1) overstride(ctx, D, act, i, s, u);
    if (S.ov.ic && atIc) {
      const c = act.rejected ? COL.rejected : COL[act.foot];
      const he = pt(D, act.foot, i, P.heel, s) || pt(D, act.foot, i, P.ankle, s);
      if (he) {
        ctx.strokeStyle = "rgba(0,0,0,.8)"; ctx.lineWidth = 6 * u; ctx.beginPath(); ctx.arc(he[0], he[1], 16 * u, 0, 7); ctx.stroke();
        ctx.strokeStyle = COL.accent; ctx.lineWidth = 3 * u; ctx.beginPath(); ctx.arc(he[0], he[1], 16 * u, 0, 7); ctx.stroke();
      }
      ctx.strokeStyle = c; ctx.lineWidth = 6 * u; ctx.strokeRect(3 * u, 3 * u, W - 6 * u, H - 6 * u);
      const tag = `INITIAL CONTACT · ${act.foot.toUpperCase()}${act.rejected ? " · rejected" : ""}${act.edited ? " · edited" : ""}`;
      label(ctx, tag, 10 * u, H - 14 * u, c, 14 * u);
    }
    const t = D.t[i];
    label(ctx, `F ${String(i).padStart(4, " ")}   t ${t === null ? "–" : t.toFixed(3)} s`, W - 10 * u, 26 * u, "#ffffff", 14 * u, "right");
  }

  window.GSDraw = { frame, activeStrike, COL };
})();
