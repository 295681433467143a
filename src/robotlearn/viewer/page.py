"""The viewer page: one HTML file with its CSS and JavaScript inline (no network, no library).

The page reads `VIEWER_DATA` (the dataset: episodes, features, cameras; inline in index.html) and,
per episode, `data/episode_NNNNNN.js` (its series, 16-bit quantized), loaded by a <script> tag so that it works from
file://. Cameras stored as video play the dataset's own MP4 files: v3.0 packs several episodes into a
file, so each video element is seeked into the episode's [from, to) span of its file; the first camera
is the clock and the others, the plot cursors and the image cameras follow it.

Keys: space plays/pauses, left/right step one frame (shift: ten), up/down (or [ / ]) go to the previous /
next episode, home/end jump to the episode's first/last frame. `window.viewer` exposes
selectEpisode(i), seekFrame(f), play(), pause() and state() for scripts and tests.
"""

CSS = """
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #222; display: flex; height: 100vh; }
#sidebar { width: 300px; overflow-y: auto; border-right: 1px solid #ddd; background: #fafafa; flex: none; }
#sidebar h1 { font-size: 15px; margin: 10px; word-break: break-all; }
#sidebar .meta { margin: 0 10px 8px; color: #666; font-size: 12px; }
#episodes { border-collapse: collapse; width: 100%; font-size: 12px; }
#episodes td, #episodes th { padding: 3px 6px; text-align: left; border-bottom: 1px solid #eee; }
#episodes tr.episode { cursor: pointer; }
#episodes tr.episode:hover { background: #eef; }
#episodes tr.selected { background: #dde6ff; }
#main { flex: 1; overflow-y: auto; padding: 10px 16px; }
#task { font-size: 16px; margin: 4px 0 10px; }
#cameras { display: flex; flex-wrap: wrap; gap: 10px; }
.camera { display: flex; flex-direction: column; }
.camera video, .camera img { height: 240px; image-rendering: pixelated; background: #000; }
.camera span { font-size: 12px; color: #555; }
#controls { display: flex; align-items: center; gap: 10px; margin: 10px 0; }
#scrubber { flex: 1; }
#clock { font-family: monospace; min-width: 190px; }
.plot { position: relative; margin: 6px 0; }
.plot canvas { width: 100%; height: 150px; display: block; }
.plot .cursor { position: absolute; top: 18px; bottom: 18px; width: 0; border-left: 1.5px solid #e33; pointer-events: none; }
.plot .title { font-size: 12px; font-weight: 600; }
.legend { font-size: 11px; color: #444; }
.legend i { display: inline-block; width: 10px; height: 3px; margin: 0 3px 3px 8px; }
.help { color: #777; font-size: 12px; }
"""

JS = r"""
(() => {
const D = window.VIEWER_DATA;
const COLORS = ["#1f77b4","#d62728","#2ca02c","#ff7f0e","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
const pad = (n) => String(n).padStart(6, "0");
const episodes = {};  // index -> series, filled by data/episode_NNNNNN.js
const waiting = {};
function decode(f) {  // {lo, hi, q: base64 uint16 (T, D)} -> T arrays of D values (see encode_series)
  const bin = atob(f.q), D = f.lo.length, T = bin.length / 2 / D, rows = [];
  for (let t = 0; t < T; t++) {
    const row = new Array(D);
    for (let d = 0; d < D; d++) {
      const i = 2 * (t * D + d), q = bin.charCodeAt(i) | (bin.charCodeAt(i + 1) << 8);
      row[d] = f.lo[d] + (q / 65535) * (f.hi[d] - f.lo[d]);
    }
    rows.push(row);
  }
  return rows;
}
window.VIEWER_EPISODE = (index, encoded) => {
  const series = {};
  for (const [key, f] of Object.entries(encoded)) series[key] = decode(f);
  episodes[index] = series; (waiting[index] || []).forEach(f => f());
};
const S = { pos: 0, ep: null, t: 0, playing: false, videos: [], images: [], plots: [] };
const $ = (id) => document.getElementById(id);

function loadSeries(index) {
  return new Promise((resolve, reject) => {
    if (episodes[index]) return resolve(episodes[index]);
    (waiting[index] = waiting[index] || []).push(() => resolve(episodes[index]));
    const s = document.createElement("script");
    s.src = "data/episode_" + pad(index) + ".js";
    s.onerror = () => reject(new Error("cannot load " + s.src));
    document.head.appendChild(s);
  });
}

const frameOf = (t) => Math.max(0, Math.min(S.ep.length - 1, Math.floor(t * D.fps + 1e-3)));
// A seek lands a quarter frame inside frame f, so float rounding never shows frame f - 1.
const timeOfFrame = (f) => (f + 0.25) / D.fps;

function buildList() {
  const body = $("episodes").tBodies[0];
  D.episodes.forEach((ep, pos) => {
    const tr = document.createElement("tr");
    tr.className = "episode"; tr.dataset.pos = pos;
    const ok = ep.success === null ? "" : (ep.success ? "\u2713" : "\u2717");
    tr.innerHTML = `<td>${ep.index}</td><td>${ep.length} (${(ep.length / D.fps).toFixed(1)} s)</td><td>${ok}</td><td></td>`;
    tr.lastChild.textContent = ep.tasks.join("; ");
    tr.onclick = () => selectEpisode(pos);
    body.appendChild(tr);
  });
}

function buildCameras(ep) {
  const box = $("cameras"); box.innerHTML = ""; S.videos = []; S.images = [];
  for (const key of D.video_keys) {
    const span = ep.videos[key];
    const div = document.createElement("div"); div.className = "camera";
    const v = document.createElement("video");
    v.muted = true; v.playsInline = true; v.preload = "auto"; v.dataset.key = key;
    v.src = span.src;
    div.appendChild(v);
    const label = document.createElement("span"); label.textContent = key; div.appendChild(label);
    box.appendChild(div);
    S.videos.push({ el: v, span });
  }
  for (const key of D.image_keys) {
    const div = document.createElement("div"); div.className = "camera";
    const img = document.createElement("img"); img.dataset.key = key; div.appendChild(img);
    const label = document.createElement("span"); label.textContent = key; div.appendChild(label);
    box.appendChild(div);
    S.images.push({ el: img, key });
  }
}

function drawPlot(plot, values, names) {
  const c = plot.canvas, dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth || 800, h = c.clientHeight || 150;
  c.width = w * dpr; c.height = h * dpr;
  const g = c.getContext("2d"); g.scale(dpr, dpr);
  const n = values.length, dims = names.length;
  let lo = Infinity, hi = -Infinity;
  for (const row of values) for (const v of row) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const L = 50, R = 10, T = 18, B = 18;
  plot.x = (f) => L + (n > 1 ? f / (n - 1) : 0) * (w - L - R);
  plot.left = L; plot.right = w - R; plot.n = n;
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (h - T - B);
  g.strokeStyle = "#ccc"; g.strokeRect(L, T, w - L - R, h - T - B);
  g.fillStyle = "#666"; g.font = "11px sans-serif";
  g.fillText(hi.toPrecision(4), 2, T + 8); g.fillText(lo.toPrecision(4), 2, h - B);
  g.fillText("0", L, h - 4); g.fillText(String(n - 1), w - R - 20, h - 4);
  for (let d = 0; d < dims; d++) {
    g.strokeStyle = COLORS[d % COLORS.length]; g.lineWidth = 1.2; g.beginPath();
    for (let f = 0; f < n; f++) { const X = plot.x(f), Y = y(values[f][d]); f ? g.lineTo(X, Y) : g.moveTo(X, Y); }
    g.stroke();
  }
}

function buildPlots(series) {
  const box = $("plots"); box.innerHTML = ""; S.plots = [];
  for (const [key, names] of Object.entries(D.features)) {
    const div = document.createElement("div"); div.className = "plot"; div.dataset.key = key;
    const title = document.createElement("div"); title.className = "title"; title.textContent = key; div.appendChild(title);
    const canvas = document.createElement("canvas"); div.appendChild(canvas);
    const cursor = document.createElement("div"); cursor.className = "cursor"; div.appendChild(cursor);
    const legend = document.createElement("div"); legend.className = "legend";
    names.forEach((name, d) => { const i = document.createElement("i"); i.style.background = COLORS[d % COLORS.length];
      legend.appendChild(i); legend.appendChild(document.createTextNode(name)); });
    div.appendChild(legend);
    box.appendChild(div);
    const plot = { key, canvas, cursor };
    drawPlot(plot, series[key], names);
    canvas.onclick = (ev) => {
      const r = canvas.getBoundingClientRect();
      const frac = (ev.clientX - r.left - plot.left) / (plot.right - plot.left);
      seekFrame(Math.round(frac * (plot.n - 1)));
    };
    S.plots.push(plot);
  }
}

function render() {
  const f = frameOf(S.t);
  $("scrubber").value = f;
  $("clock").textContent = `frame ${f} / ${S.ep.length - 1}  ${S.t.toFixed(2)} s`;
  for (const p of S.plots) { p.cursor.style.left = p.x(f) + "px"; p.cursor.dataset.frame = f; }
  for (const im of S.images) {
    const src = `images/${im.key}/episode_${pad(S.ep.index)}/${pad(f)}.${D.image_ext[im.key]}`;
    if (im.el.getAttribute("src") !== src) im.el.src = src;
  }
  document.body.dataset.frame = f; document.body.dataset.episode = S.ep.index;
  $("play").textContent = S.playing ? "pause" : "play";
}

function clockTime() {  // episode time of the clock camera (or of the timer without videos)
  if (S.videos.length) { const m = S.videos[0]; return m.el.currentTime - m.span.from; }
  return S.t;
}

let last = null;
function tick(now) {
  if (S.ep && S.playing) {
    const end = S.ep.length / D.fps;
    if (S.videos.length) S.t = clockTime();
    else if (last !== null) S.t += (now - last) / 1000;
    if (S.t >= end - 0.5 / D.fps) { S.t = timeOfFrame(S.ep.length - 1); pause(); }
    else for (const v of S.videos.slice(1)) {  // followers: correct drift beyond half a frame
      const want = v.span.from + S.t;
      if (Math.abs(v.el.currentTime - want) > 0.5 / D.fps) v.el.currentTime = want;
    }
    render();
  }
  last = now;
  requestAnimationFrame(tick);
}

function seek(t) {
  S.t = t;
  for (const v of S.videos) v.el.currentTime = v.span.from + t;
  render();
}
function seekFrame(f) { seek(timeOfFrame(Math.max(0, Math.min(S.ep.length - 1, f)))); }

function play() {
  if (S.t >= (S.ep.length - 1) / D.fps) seek(timeOfFrame(0));
  S.playing = true;
  for (const v of S.videos) v.el.play().catch(() => {});
  render();
}
function pause() {
  S.playing = false;
  for (const v of S.videos) v.el.pause();
  if (S.videos.length) seek(timeOfFrame(frameOf(clockTime())));
  render();
}

async function selectEpisode(pos) {
  pos = Math.max(0, Math.min(D.episodes.length - 1, pos));
  if (S.playing) pause();
  S.pos = pos; S.ep = D.episodes[pos]; S.t = timeOfFrame(0);
  document.querySelectorAll("#episodes tr.episode").forEach(tr => tr.classList.toggle("selected", +tr.dataset.pos === pos));
  $("task").textContent = S.ep.tasks.length ? "Task: " + S.ep.tasks.join("; ") : "";
  $("scrubber").max = S.ep.length - 1;
  history.replaceState(null, "", "#episode=" + S.ep.index);
  buildCameras(S.ep);
  document.body.dataset.loading = "1";
  const series = await loadSeries(S.ep.index);
  if (S.ep !== D.episodes[pos]) return;
  buildPlots(series);
  seek(S.t);
  await Promise.all(S.videos.map(v => new Promise(r => v.el.readyState >= 2 ? r() :
    v.el.addEventListener("loadeddata", r, { once: true }))));
  seek(S.t);
  delete document.body.dataset.loading;
}

document.addEventListener("keydown", (ev) => {
  if (!S.ep || ev.target.tagName === "INPUT" && ev.key !== " ") return;
  const f = frameOf(S.t), step = ev.shiftKey ? 10 : 1;
  if (ev.key === " ") { S.playing ? pause() : play(); }
  else if (ev.key === "ArrowRight") { if (S.playing) pause(); seekFrame(frameOf(S.t) + step); }
  else if (ev.key === "ArrowLeft") { if (S.playing) pause(); seekFrame(frameOf(S.t) - step); }
  else if (ev.key === "ArrowDown" || ev.key === "]") selectEpisode(S.pos + 1);
  else if (ev.key === "ArrowUp" || ev.key === "[") selectEpisode(S.pos - 1);
  else if (ev.key === "Home") seekFrame(0);
  else if (ev.key === "End") seekFrame(S.ep.length - 1);
  else return;
  ev.preventDefault();
});

window.viewer = { selectEpisode: (index) => selectEpisode(D.episodes.findIndex(e => e.index === index)),
  seekFrame, play, pause, state: () => ({ episode: S.ep && S.ep.index, frame: S.ep && frameOf(S.t), t: S.t, playing: S.playing }) };

window.addEventListener("DOMContentLoaded", () => {
  buildList();
  $("play").onclick = () => (S.playing ? pause() : play());
  $("scrubber").oninput = (ev) => { if (S.playing) pause(); seekFrame(+ev.target.value); };
  const m = location.hash.match(/episode=(\d+)/);
  const start = m ? D.episodes.findIndex(e => e.index === +m[1]) : 0;
  selectEpisode(start < 0 ? 0 : start);
  requestAnimationFrame(tick);
});
})();
"""

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{css}</style>
<script>window.VIEWER_DATA = {data};</script>
<script>{js}</script>
</head><body>
<div id="sidebar"><h1>{title}</h1><div class="meta">{summary}</div>
<table id="episodes"><thead><tr><th>#</th><th>frames</th><th>ok</th><th>task</th></tr></thead><tbody></tbody></table>
</div>
<div id="main">
<div id="task"></div>
<div id="cameras"></div>
<div id="controls"><button id="play">play</button><input id="scrubber" type="range" min="0" max="0" value="0">
<span id="clock"></span></div>
<div class="help">space: play/pause &middot; &larr;/&rarr;: one frame (shift: ten) &middot; &uarr;/&darr;: episode &middot;
click a plot to seek</div>
<div id="plots"></div>
</div>
</body></html>
"""
