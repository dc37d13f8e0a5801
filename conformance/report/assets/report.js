// report.html's script: filters, cell details, sequence plots, sortable
// tables. It builds everything with the DOM API (textContent,
// createElement), so no text from a run is ever parsed as markup.
(function () {
  'use strict';
  var doc = document;
  function $(sel, root) { return (root || doc).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }

  // ---- Matrix cells carry only their class and group: the names come
  // from the row and column headers, the words from the legend.
  var labels = {};
  $$('input[name="f-class"]').forEach(function (c) { labels[c.value] = c.parentElement.lastChild.textContent.trim(); });
  function classKey(el) {
    for (var i = 0; i < el.classList.length; i++) {
      if (el.classList[i].indexOf('c-') === 0) { return el.classList[i].slice(2); }
    }
    return '';
  }
  $$('table.grid').forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    $$('tbody td', table).forEach(function (td) {
      td.dataset.client = td.parentElement.cells[0].textContent;
      td.dataset.server = heads[td.cellIndex].textContent;
      td.dataset['class'] = classKey(td);
      if (td.classList.contains('cell')) {
        var rate = $('small', td);
        td.title = td.dataset.client + ' × ' + td.dataset.server + ': ' + labels[td.dataset['class']] + (rate ? ', ' + rate.textContent + ' seeds passed' : '');
      }
    });
  });

  // ---- Filters: dim cells, hide matrices and leaderboard rows.
  var fImpl = $('#f-impl'), fProto = $('#f-proto'), fScen = $('#f-scen');
  function applyFilters() {
    var impl = fImpl.value, proto = fProto.value, scen = fScen.value, on = {};
    $$('input[name="f-class"]').forEach(function (c) { on[c.value] = c.checked; });
    $$('figure.matrix').forEach(function (f) {
      f.classList.toggle('hidden', !!((proto && f.dataset.proto !== proto) || (scen && f.dataset.scenario !== scen)));
    });
    $$('figure.overview').forEach(function (f) {
      f.classList.toggle('hidden', !!(proto && f.dataset.proto !== proto));
    });
    $$('td.cell, td.pair').forEach(function (td) {
      var mine = !impl || td.dataset.client === impl || td.dataset.server === impl;
      td.classList.toggle('off', !(mine && on[td.dataset['class']] !== false));
    });
    $$('#perf-table tbody tr').forEach(function (tr) {
      tr.classList.toggle('hidden', !!(impl && tr.dataset.client !== impl && tr.dataset.server !== impl));
    });
    $$('table.summary tbody tr').forEach(function (tr) {
      tr.classList.toggle('off', !!(impl && tr.dataset.impl !== impl));
    });
  }
  $$('[data-g]').forEach(function (el) { el.tabIndex = 0; });
  [fImpl, fProto, fScen].concat($$('input[name="f-class"]')).forEach(function (el) {
    el.addEventListener('change', applyFilters);
  });
  $('#f-reset').addEventListener('click', function () {
    fImpl.value = fProto.value = fScen.value = '';
    $$('input[name="f-class"]').forEach(function (c) { c.checked = true; });
    applyFilters();
  });

  // ---- Cell details in a dialog, one <template> per cell.
  var dialog = $('#detail'), body = $('#detail-body'), reqbox = $('#reqbox');
  function reqText(id) {
    var dt = doc.getElementById('req-' + id);
    var dd = dt && dt.nextElementSibling;
    return dd ? id + ': ' + dd.textContent : '';
  }
  // The cells' details come gzip-compressed in #details-gz (base64url);
  // ready settles once they are inflated into #details.
  var ready = (function () {
    var src = $('#details-gz');
    if (!src) { return Promise.resolve(); }
    if (typeof DecompressionStream === 'undefined') {
      return Promise.reject(new Error('this browser cannot inflate the details (no DecompressionStream): open the report in a current browser'));
    }
    var bin = atob(src.textContent.trim().replace(/-/g, '+').replace(/_/g, '/'));
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text().then(function (html) {
      // The fragments are the report's own html/template output.
      $('#details').innerHTML = html;
      doc.body.dataset.ready = 'true';
    });
  })();
  function openGroup(idx) {
    ready.then(function () { showGroup(idx); }, function (err) {
      body.textContent = err.message;
      if (!dialog.open) { dialog.showModal(); }
    });
  }
  function showGroup(idx) {
    var t = doc.getElementById('g-' + idx);
    if (!t) { return; }
    body.replaceChildren(t.content.cloneNode(true));
    describeGroup(t);
    reqbox.hidden = true;
    $$('a.req', body).forEach(function (a) { a.title = reqText(a.dataset.req); });
    $$('figure.plot', body).forEach(drawPlot);
    if (!dialog.open) { dialog.showModal(); }
    dialog.scrollTop = 0;
    history.replaceState(null, '', '#cell=' + encodeURIComponent(t.dataset.id));
  }
  // describeGroup adds what every cell's detail says the same way: the
  // class in words, what to do, a link to the cell, and how much of the
  // cell this page holds. The templates leave it out to stay small.
  var levelNotes = {
    compact: 'Compact details, to keep this page small: logs, passing findings and traces are in the cells\' folders (or render this cell alone: report -only).',
    brief: 'Brief details, to keep this page small: everything else is in the cells\' folders (or render this cell alone: report -only).'
  };
  function describeGroup(t) {
    var head = $('.dhead', body), key = classKey(head), legend = $('.legend .c-' + key);
    var p = doc.createElement('p');
    p.appendChild(doc.createTextNode((labels[key] || key) + (legend && legend.title ? ' · ' + legend.title : '') + ' · '));
    var a = doc.createElement('a');
    a.href = '#cell=' + encodeURIComponent(t.dataset.id);
    a.className = 'permalink';
    a.textContent = 'link to this cell';
    p.appendChild(a);
    head.insertBefore(p, $('h2', head).nextSibling);
    if (levelNotes[t.dataset.level]) {
      var n = doc.createElement('p');
      n.className = 'note';
      n.textContent = levelNotes[t.dataset.level];
      head.appendChild(n);
    }
  }
  function openByID(id) {
    ready.then(function () {
      var t = $$('#details template').filter(function (t) { return t.dataset.id === id; })[0];
      if (t) { showGroup(t.id.slice(2)); }
    });
  }
  function fromHash() {
    if (location.hash.indexOf('#cell=') === 0) { openByID(decodeURIComponent(location.hash.slice(6))); }
  }
  dialog.addEventListener('close', function () {
    history.replaceState(null, '', location.pathname + location.search);
  });
  doc.addEventListener('click', function (e) {
    var t = e.target;
    var a = t.closest('a.req');
    if (a && dialog.contains(a)) {
      e.preventDefault();
      reqbox.textContent = reqText(a.dataset.req) || a.dataset.req + ': the text is not in this report.';
      reqbox.hidden = false;
      return;
    }
    var opener = t.closest('[data-g]');
    if (opener) { e.preventDefault(); openGroup(opener.dataset.g); return; }
    var copy = t.closest('button.copy');
    if (copy) { copyText(copy.previousElementSibling.textContent, copy); return; }
    if (t.closest('#detail .close')) { dialog.close(); return; }
    if (t === dialog) {
      var r = dialog.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) { dialog.close(); }
    }
  });
  doc.addEventListener('keydown', function (e) {
    var opener = e.target.closest && e.target.closest('[data-g]');
    if (opener && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); openGroup(opener.dataset.g); }
  });
  window.addEventListener('hashchange', fromHash);

  function copyText(text, btn) {
    function done(msg) {
      btn.textContent = msg;
      setTimeout(function () { btn.textContent = 'copy'; }, 1500);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done('copied'); }, function () { done('select it to copy'); });
    } else {
      done('select it to copy');
    }
  }

  // ---- Sortable tables: numbers in data-v, missing values always last.
  $$('table.sortable').forEach(function (table) {
    var heads = $$('thead th', table);
    heads.forEach(function (th, col) {
      th.addEventListener('click', function () {
        var asc = !th.classList.contains('asc');
        heads.forEach(function (h) { h.classList.remove('asc', 'desc'); });
        th.classList.add(asc ? 'asc' : 'desc');
        var num = th.dataset.sort === 'num';
        var rows = $$('tbody tr', table);
        rows.sort(function (a, b) {
          var x = a.cells[col].dataset.v || a.cells[col].textContent;
          var y = b.cells[col].dataset.v || b.cells[col].textContent;
          if (num) {
            var fx = parseFloat(x), fy = parseFloat(y), mx = !(fx < 1e98), my = !(fy < 1e98);
            if (mx !== my) { return mx ? 1 : -1; }
            return asc ? fx - fy : fy - fx;
          }
          return asc ? x.localeCompare(y) : y.localeCompare(x);
        });
        rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
      });
    });
  });

  // ---- Sequence/time plot: one SVG mark per datagram of the trace.
  var SVG = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) {
    var e = doc.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }
  // shape is the path of mark kind k at (x, y): a dot for a transmission,
  // a diamond for a retransmission, a cross for a loss, a square for
  // damage; acks are small bars, their losses small crosses.
  function shape(k, x, y) {
    var f = function (n) { return n.toFixed(1); };
    switch (k) {
      case 0: return 'M' + f(x - 2) + ' ' + f(y) + 'a2 2 0 1 0 4 0a2 2 0 1 0-4 0Z';
      case 1: return 'M' + f(x) + ' ' + f(y - 3.5) + 'l3.5 3.5-3.5 3.5-3.5-3.5Z';
      case 2: return 'M' + f(x - 3) + ' ' + f(y - 3) + 'l6 6m0-6l-6 6';
      case 3: return 'M' + f(x - 2.5) + ' ' + f(y - 2.5) + 'h5v5h-5Z';
      case 4: return 'M' + f(x - 2) + ' ' + f(y - 1) + 'h4v2h-4Z';
      case 5: return 'M' + f(x - 2) + ' ' + f(y - 2) + 'l4 4m0-4l-4 4';
      case 6: return 'M' + f(x - 2) + ' ' + f(y - 1.5) + 'h4v3h-4Z';
      default: return 'M' + f(x - 1.5) + ' ' + f(y) + 'a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0-3 0Z';
    }
  }
  function niceStep(span, n) {
    var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function absSeq(s, i) {
    if (!s.base) { return '+' + s.y[i]; }
    try { return (BigInt(s.base) + BigInt(s.y[i])).toString(); } catch (err) { return s.base + '+' + s.y[i]; }
  }
  function describe(s, i) {
    var k = s.k[i], what;
    if (k === 7) { what = 'a datagram that does not parse'; }
    else if (k >= 4) { what = 'ack: next expected ' + absSeq(s, i) + ' (+' + s.y[i] + ')'; }
    else { what = 'seqno ' + absSeq(s, i) + ' (+' + s.y[i] + ')'; }
    return (s.t[i] / 10).toFixed(1) + ' ms · ' + what + ' · ' + s.s[i] + ' bytes · ' + s.names[k] + (s.f ? ' · flow ' + s.f[i] : '');
  }
  var tip = $('#tip');
  function drawPlot(fig) {
    var s;
    try { s = JSON.parse(fig.dataset.plot); } catch (err) { s = null; }
    if (!s || !s.k || s.t.length !== s.k.length || s.y.length !== s.k.length) {
      var p = doc.createElement('p');
      p.className = 'note';
      p.textContent = 'The plot data is damaged.';
      fig.appendChild(p);
      return;
    }
    var W = 900, H = 340, L = 70, R = 14, T = 12, B = 40, n = s.k.length;
    var t0 = Infinity, t1 = -Infinity, y0 = 0, y1 = 1, i;
    for (i = 0; i < n; i++) {
      t0 = Math.min(t0, s.t[i]); t1 = Math.max(t1, s.t[i]);
      if (s.k[i] !== 7) { y0 = Math.min(y0, s.y[i]); y1 = Math.max(y1, s.y[i]); }
    }
    if (!(t1 > t0)) { t0 = n ? t0 - 10 : 0; t1 = t0 + 20; }
    var bottom = y0 - 1;
    var X = function (t) { return L + (t - t0) / (t1 - t0) * (W - L - R); };
    var Y = function (y) { return H - B - (y - bottom) / (y1 - bottom) * (H - T - B); };
    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'sequence/time plot of ' + n + ' datagrams' });
    var grid = el('g', {}, svg), step, v;
    step = niceStep((t1 - t0) / 10, 8);
    for (v = Math.ceil(t0 / 10 / step) * step; v * 10 <= t1; v += step) {
      el('line', { 'class': 'gridline', x1: X(v * 10), x2: X(v * 10), y1: T, y2: H - B }, grid);
      el('text', { x: X(v * 10), y: H - B + 14, 'text-anchor': 'middle' }, grid).textContent = v >= 10000 ? (v / 1000) + ' s' : v + ' ms';
    }
    step = Math.max(1, niceStep(y1 - bottom, 6));
    for (v = Math.ceil(bottom / step) * step; v <= y1; v += step) {
      el('line', { 'class': 'gridline', x1: L, x2: W - R, y1: Y(v), y2: Y(v) }, grid);
      el('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end' }, grid).textContent = '+' + v;
    }
    el('line', { 'class': 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }, grid);
    el('line', { 'class': 'axis', x1: L, x2: L, y1: T, y2: H - B }, grid);
    el('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, grid).textContent = 'time since the simulator started';
    el('text', { x: 14, y: (T + H - B) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 14 ' + (T + H - B) / 2 + ')' }, grid).textContent = 'seqno − first start';
    var marks = el('g', { 'class': 'marks' }, svg), counts = [];
    for (i = 0; i < n; i++) {
      var k = s.k[i];
      counts[k] = (counts[k] || 0) + 1;
      el('path', { 'class': 'mark k' + k, d: shape(k, X(s.t[i]), Y(k === 7 ? bottom : s.y[i])), 'data-i': i }, marks);
    }
    marks.addEventListener('mouseover', function (e) {
      if (!e.target.dataset || e.target.dataset.i === undefined) { return; }
      tip.textContent = describe(s, +e.target.dataset.i);
      tip.hidden = false;
      tip.style.left = Math.min(e.clientX + 12, window.innerWidth - 440) + 'px';
      tip.style.top = (e.clientY + 14) + 'px';
    });
    marks.addEventListener('mouseout', function () { tip.hidden = true; });
    fig.appendChild(svg);
    var legend = doc.createElement('div');
    legend.className = 'plotlegend';
    s.names.forEach(function (name, k) {
      if (!counts[k]) { return; }
      var span = doc.createElement('span'), sw = el('svg', { viewBox: '0 0 12 12', 'class': 'plot' }, span);
      el('path', { 'class': 'swatch k' + k, d: shape(k, 6, 6) }, sw);
      span.appendChild(doc.createTextNode(name + ' ' + counts[k]));
      legend.appendChild(span);
    });
    if (s.cut) {
      var cut = doc.createElement('span');
      cut.textContent = 'only the first ' + n + ' datagrams are drawn';
      legend.appendChild(cut);
    }
    fig.appendChild(legend);
  }

  applyFilters();
  fromHash();
})();
