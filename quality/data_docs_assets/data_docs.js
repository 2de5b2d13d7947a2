/* unsilo: the few jQuery and bootstrap-table calls GX's Data Docs pages make, shipped with unsilo so the site works
   offline (no CDN). Self-written (public domain). $(selector).bootstrapTable({columns, data}) renders the table
   from the data GX embeds in the page; a row with data-href opens it; any other call does nothing. */
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function named(fn) { return typeof fn === "string" ? window[fn] : fn; }
  function render(table, opts) {
    var cols = opts.columns || [], rows = opts.data || [], attrs = named(opts.rowAttributes);
    var head = "<thead><tr>" + cols.map(function (c) { return "<th>" + (c.title || "") + "</th>"; }).join("") +
      "</tr></thead>";
    table.innerHTML = head + "<tbody></tbody>";
    var body = table.querySelector("tbody");
    rows.forEach(function (row, i) {
      var tr = document.createElement("tr");
      var extra = attrs ? attrs(row, i) : {};
      Object.keys(extra || {}).forEach(function (k) { if (extra[k] != null) { tr.setAttribute(k, extra[k]); } });
      cols.forEach(function (c) {
        var td = document.createElement("td");
        td.innerHTML = row[c.field] == null ? "" : String(row[c.field]);
        tr.appendChild(td);
      });
      if (tr.getAttribute("data-href")) {
        tr.addEventListener("click", function () { window.location = tr.getAttribute("data-href"); });
      }
      body.appendChild(tr);
    });
  }
  function wrap(nodes) {
    var self = {
      bootstrapTable: function (opts) {
        if (opts && typeof opts === "object") { nodes.forEach(function (n) { render(n, opts); }); }
        return proxy;
      },
      ready: function (fn) { ready(fn); return proxy; },
      removeClass: function (c) { nodes.forEach(function (n) { n.classList.remove(c); }); return proxy; },
      data: function (k) { return nodes[0] ? nodes[0].getAttribute("data-" + k) : undefined; }
    };
    var proxy = new Proxy(self, {
      get: function (t, k) { return k in t ? t[k] : function () { return proxy; }; }
    });
    return proxy;
  }
  window.$ = window.jQuery = function (arg) {
    if (typeof arg === "function") { ready(arg); return wrap([]); }
    if (typeof arg === "string") {
      try { return wrap(Array.prototype.slice.call(document.querySelectorAll(arg))); } catch (e) { return wrap([]); }
    }
    return wrap(arg && arg.nodeType ? [arg] : []);
  };
})();
