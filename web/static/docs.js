"use strict";
(function () {
  var SPEC_URL = "/api/v1/openapi.json";
  var spec = null;

  // ---- DOM helpers -------------------------------------------------------------------
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") node.textContent = attrs[k];
        else if (k === "cls") node.className = attrs[k];
        else node.setAttribute(k, attrs[k]);
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  function escapeHtml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function slug(s) { return String(s).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, ""); }

  // ---- A small Markdown renderer (headings, lists, tables, code, emphasis) ------------
  function inline(text) {
    var parts = String(text).split("`");
    return parts.map(function (part, i) {
      var safe = escapeHtml(part);
      if (i % 2 === 1) return "<code>" + safe + "</code>";
      return safe.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|[\s(])_([^_]+)_(?=[\s).,;:]|$)/g, "$1<em>$2</em>");
    }).join("");
  }
  function markdown(src) {
    var lines = String(src || "").replace(/\r/g, "").split("\n");
    var html = [], i = 0;
    function isTableRow(l) { return /^\s*\|.*\|\s*$/.test(l); }
    function cells(l) { return l.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/).map(function (c) { return c.trim().replace(/\\\|/g, "|"); }); }
    while (i < lines.length) {
      var line = lines[i];
      if (/^```/.test(line)) {
        var code = []; i++;
        while (i < lines.length && !/^```/.test(lines[i])) { code.push(lines[i]); i++; }
        i++;
        html.push("<pre><code>" + escapeHtml(code.join("\n")) + "</code></pre>");
      } else if (/^#{1,6}\s/.test(line)) {
        var level = Math.min(6, line.match(/^#+/)[0].length + 2);
        html.push("<h" + level + ">" + inline(line.replace(/^#+\s*/, "")) + "</h" + level + ">");
        i++;
      } else if (isTableRow(line) && i + 1 < lines.length && /^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1])) {
        var head = cells(line); i += 2;
        var rows = [];
        while (i < lines.length && isTableRow(lines[i])) { rows.push(cells(lines[i])); i++; }
        html.push("<table><thead><tr>" + head.map(function (c) { return "<th>" + inline(c) + "</th>"; }).join("") +
          "</tr></thead><tbody>" + rows.map(function (r) {
            return "<tr>" + r.map(function (c) { return "<td>" + inline(c) + "</td>"; }).join("") + "</tr>";
          }).join("") + "</tbody></table>");
      } else if (/^\s*[-*]\s+/.test(line)) {
        var items = [];
        while (i < lines.length && (/^\s*[-*]\s+/.test(lines[i]) || (/^\s{2,}\S/.test(lines[i]) && items.length))) {
          if (/^\s*[-*]\s+/.test(lines[i])) items.push(lines[i].replace(/^\s*[-*]\s+/, ""));
          else items[items.length - 1] += " " + lines[i].trim();
          i++;
        }
        html.push("<ul>" + items.map(function (t) { return "<li>" + inline(t) + "</li>"; }).join("") + "</ul>");
      } else if (line.trim() === "") {
        i++;
      } else {
        var para = [];
        while (i < lines.length && lines[i].trim() !== "" && !/^(```|#{1,6}\s|\s*[-*]\s+)/.test(lines[i]) && !isTableRow(lines[i])) {
          para.push(lines[i]); i++;
        }
        html.push("<p>" + inline(para.join(" ")) + "</p>");
      }
    }
    var div = el("div", { cls: "desc" });
    div.innerHTML = html.join("");
    return div;
  }

  // ---- References and schemas ------------------------------------------------------
  function resolve(obj) {
    var seen = 0;
    while (obj && obj.$ref && seen++ < 10) {
      var parts = obj.$ref.replace(/^#\//, "").split("/");
      var target = spec;
      parts.forEach(function (p) { target = target ? target[p.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined; });
      if (!target) return obj;
      obj = target;
    }
    return obj;
  }
  function refName(ref) { return ref.split("/").pop(); }
  function schemaLink(ref) {
    var name = refName(ref);
    return el("a", { href: "#schema-" + slug(name), cls: "type", text: name });
  }

  // A one-line type label: string (decimal), Order, array of Order, string | null, …
  function typeLabel(schema) {
    if (!schema) return el("span", { cls: "type", text: "any" });
    if (schema.$ref) return schemaLink(schema.$ref);
    var alts = schema.oneOf || schema.anyOf;
    if (alts) {
      var span = el("span");
      alts.forEach(function (s, i) { if (i) append(span, " | "); append(span, typeLabel(s)); });
      return span;
    }
    if (schema.allOf) {
      var all = el("span");
      schema.allOf.forEach(function (s, i) { if (i) append(all, " & "); append(all, typeLabel(s)); });
      return all;
    }
    var types = Array.isArray(schema.type) ? schema.type : (schema.type ? [schema.type] : []);
    var out = el("span", { cls: "type" });
    var nonNull = types.filter(function (t) { return t !== "null"; });
    if (nonNull.length === 0 && types.length) nonNull = ["null"];
    nonNull.forEach(function (t, i) {
      if (i) append(out, " | ");
      if (t === "array") { append(out, "array of "); append(out, typeLabel(schema.items)); }
      else if (t === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") {
        append(out, "map of "); append(out, typeLabel(schema.additionalProperties));
      } else append(out, t);
    });
    if (!types.length) append(out, schema.properties ? "object" : "any");
    if (schema.format) append(out, " (" + schema.format + ")");
    if (types.indexOf("null") >= 0 && nonNull[0] !== "null") append(out, " | null");
    return out;
  }

  function constraints(schema) {
    if (!schema || schema.$ref) return [];
    var out = [];
    if (schema.enum) out.push(el("span", null, "one of ", schema.enum.map(function (v, i) {
      return [i ? ", " : "", el("code", { text: JSON.stringify(v) })];
    })));
    if (schema.minimum !== undefined) out.push(el("span", null, " min ", el("code", { text: String(schema.minimum) })));
    if (schema.maximum !== undefined) out.push(el("span", null, " max ", el("code", { text: String(schema.maximum) })));
    if (schema.pattern) out.push(el("span", null, " pattern ", el("code", { text: schema.pattern })));
    if (schema.default !== undefined) out.push(el("span", null, " default ", el("code", { text: JSON.stringify(schema.default) })));
    if (schema.example !== undefined && typeof schema.example !== "object") out.push(el("span", null, " e.g. ", el("code", { text: JSON.stringify(schema.example) })));
    return out;
  }

  // A schema as a property table (objects), or its type and description.
  function schemaBlock(schema, depth) {
    depth = depth || 0;
    var box = el("div", { cls: "schema-box" });
    if (!schema) return box;
    if (schema.$ref) {
      append(box, el("div", null, "Schema: ", schemaLink(schema.$ref)));
      var target = resolve(schema);
      if (depth === 0 && target && !target.$ref) {
        append(box, el("details", null, el("summary", { text: "Show " + refName(schema.$ref) }), schemaBlock(target, depth + 1)));
      }
      return box;
    }
    if (schema.description) append(box, markdown(schema.description));
    var alts = schema.oneOf || schema.anyOf;
    if (alts) {
      append(box, el("div", { cls: "muted", text: schema.oneOf ? "One of:" : "Any of:" }));
      alts.forEach(function (s) { append(box, schemaBlock(s, depth + 1)); });
    }
    if (schema.allOf) {
      append(box, el("div", { cls: "muted", text: "All of:" }));
      schema.allOf.forEach(function (s) { append(box, schemaBlock(s, depth + 1)); });
    }
    if (schema.properties) {
      var required = schema.required || [];
      var rows = Object.keys(schema.properties).map(function (name) {
        var prop = schema.properties[name];
        var target = prop.$ref ? resolve(prop) : prop;
        var desc = prop.description || (prop.$ref ? "" : "") ;
        var cell = el("td");
        if (desc) append(cell, markdown(desc));
        append(cell, constraints(target === prop ? prop : {}));
        if (!prop.$ref && prop.type === "object" && prop.properties && depth < 3) append(cell, schemaBlock(prop, depth + 1));
        if (!prop.$ref && prop.items && prop.items.properties && depth < 3) append(cell, schemaBlock(prop.items, depth + 1));
        return el("tr", null,
          el("td", null, el("code", { text: name }), required.indexOf(name) >= 0 ? el("div", { cls: "req", text: "required" }) : null),
          el("td", null, typeLabel(prop)),
          cell);
      });
      append(box, el("table", null, el("thead", null, el("tr", null, el("th", { text: "field" }), el("th", { text: "type" }), el("th", { text: "description" }))), el("tbody", null, rows)));
    } else if (!alts && !schema.allOf) {
      append(box, el("div", null, typeLabel(schema), " ", constraints(schema)));
    }
    if (schema.example !== undefined && typeof schema.example === "object") append(box, exampleBlock("Example", schema.example));
    return box;
  }

  function exampleBlock(title, value) {
    var text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    return el("details", null, el("summary", { text: title }), el("pre", null, el("code", { text: text })));
  }

  // ---- Operations ------------------------------------------------------------------
  var METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];

  function operations(paths) {
    var out = [];
    Object.keys(paths || {}).forEach(function (path) {
      var item = paths[path];
      METHODS.forEach(function (m) { if (item[m]) out.push({ path: path, method: m, op: item[m] }); });
    });
    return out;
  }

  function opId(o) { return "op-" + slug(o.op.operationId || (o.method + " " + o.path)); }

  function securityBadges(op) {
    var list = op.security || [];
    if (!list.length) return [el("span", { cls: "badge", text: "no authentication" })];
    return list.map(function (req) {
      return Object.keys(req).map(function (name) {
        return el("a", { cls: "badge", href: "#security-" + slug(name), text: name });
      });
    });
  }

  function parametersTable(params) {
    if (!params || !params.length) return null;
    var rows = params.map(function (p) {
      var param = resolve(p);
      return el("tr", null,
        el("td", null, el("code", { text: param.name }), param.required ? el("div", { cls: "req", text: "required" }) : null),
        el("td", { text: param.in }),
        el("td", null, typeLabel(param.schema)),
        el("td", null, param.description ? markdown(param.description) : null, constraints(param.schema && !param.schema.$ref ? param.schema : {}),
          param.example !== undefined ? el("span", null, " e.g. ", el("code", { text: String(param.example) })) : null));
    });
    return [el("h4", { text: "Parameters" }),
      el("table", null, el("thead", null, el("tr", null, el("th", { text: "name" }), el("th", { text: "in" }), el("th", { text: "type" }), el("th", { text: "description" }))), el("tbody", null, rows))];
  }

  function contentBlock(content) {
    var out = [];
    Object.keys(content || {}).forEach(function (type) {
      var media = content[type];
      out.push(el("div", null, el("span", { cls: "badge", text: type })));
      if (media.schema) out.push(schemaBlock(media.schema));
      if (media.example !== undefined) out.push(exampleBlock("Example", media.example));
      if (media.examples) {
        Object.keys(media.examples).forEach(function (name) {
          var ex = resolve(media.examples[name]);
          out.push(exampleBlock(ex.summary || name, ex.value));
        });
      }
    });
    return out;
  }

  function headersList(headers) {
    var names = Object.keys(headers || {});
    if (!names.length) return null;
    return el("div", { cls: "muted" }, "Headers: ", names.map(function (name, i) {
      var h = resolve(headers[name]);
      return [i ? ", " : "", el("code", { text: name, title: h.description || "" })];
    }));
  }

  function renderOperation(o) {
    var op = o.op;
    var section = el("section", { cls: "op", id: opId(o) });
    append(section, el("div", { cls: "op-head" },
      el("span", { cls: "method " + o.method, text: o.method }),
      el("span", { cls: "path", text: o.path }),
      el("span", { cls: "summary", text: op.summary || "" })));
    append(section, el("div", null, securityBadges(op), op.operationId ? el("span", { cls: "badge", text: "operationId: " + op.operationId }) : null));
    if (op.description) append(section, markdown(op.description));
    append(section, parametersTable(op.parameters));
    if (op.requestBody) {
      var body = resolve(op.requestBody);
      append(section, el("h4", { text: "Request body" + (body.required ? "" : " (optional)") }));
      if (body.description) append(section, markdown(body.description));
      append(section, contentBlock(body.content));
    }
    var responses = op.responses || {};
    append(section, el("h4", { text: "Responses" }));
    Object.keys(responses).forEach(function (status) {
      var r = resolve(responses[status]);
      var cls = "status s" + status.charAt(0);
      var isError = /^[45]/.test(status);
      var inner = [r.description ? markdown(r.description) : null, headersList(r.headers), contentBlock(r.content)];
      if (isError) {
        var codes = [];
        Object.keys(r.content || {}).forEach(function (type) { codes = codes.concat(Object.keys(r.content[type].examples || {})); });
        var title = (r.description || "").split("\n")[0].replace(/\. Codes:$/, "");
        append(section, el("details", null, el("summary", null, el("span", { cls: cls, text: status }), " ", title,
          codes.length ? [" — ", codes.map(function (c, i) { return [i ? ", " : "", el("code", { text: c })]; })] : null), inner));
      } else {
        append(section, el("div", null, el("span", { cls: cls, text: status })));
        append(section, el("div", { cls: "schema-box" }, inner));
      }
    });
    return section;
  }

  // ---- Page ------------------------------------------------------------------------
  function render() {
    var content = document.getElementById("content");
    var toc = document.getElementById("toc");
    content.textContent = "";
    toc.textContent = "";
    var info = spec.info || {};
    append(content, el("h1", { text: (info.title || "API") + " " + (info.version || "") }));
    append(content, el("p", { cls: "muted" }, "OpenAPI " + spec.openapi + " · ",
      el("a", { href: SPEC_URL, text: "openapi.json" })));
    append(toc, el("div", { cls: "group", text: "Guide" }));
    append(toc, el("a", { href: "#overview", text: "Overview" }));
    append(toc, el("a", { href: "#authentication", text: "Authentication" }));
    append(toc, el("a", { href: "#errors", text: "Error codes" }));

    append(content, el("h2", { id: "overview", text: "Overview" }));
    append(content, markdown(info.description));

    var components = spec.components || {};
    append(content, el("h2", { id: "authentication", text: "Authentication" }));
    Object.keys(components.securitySchemes || {}).forEach(function (name) {
      var s = components.securitySchemes[name];
      var kind = s.type === "apiKey" ? "API key in header " + s.name : (s.type === "http" ? "HTTP " + s.scheme + (s.bearerFormat ? " (" + s.bearerFormat + ")" : "") : s.type);
      append(content, el("h3", { id: "security-" + slug(name), text: name }));
      append(content, el("p", { cls: "muted", text: kind }));
      append(content, markdown(s.description));
    });

    append(content, el("h2", { id: "errors", text: "Error codes" }));
    if (components.schemas && components.schemas.Error) {
      append(content, el("p", null, "Every error response has the body ", schemaLink("#/components/schemas/Error"),
        ": ", el("code", { text: "{\"error\": {\"code\", \"message\", \"param\"?, \"request_id\"}}" }), "."));
    }
    var codes = components["x-error-codes"] || [];
    append(content, el("table", null,
      el("thead", null, el("tr", null, el("th", { text: "code" }), el("th", { text: "HTTP status" }), el("th", { text: "meaning" }))),
      el("tbody", null, codes.map(function (c) {
        return el("tr", { id: "error-" + slug(c.code) }, el("td", null, el("code", { text: c.code })),
          el("td", null, el("span", { cls: "status s" + String(c.status).charAt(0), text: String(c.status) })),
          el("td", null, markdown(c.description)));
      }))));

    // Operations grouped by tag, in the document's tag order.
    var ops = operations(spec.paths);
    var tagOrder = (spec.tags || []).map(function (t) { return t.name; });
    ops.forEach(function (o) { (o.op.tags || ["Other"]).forEach(function (t) { if (tagOrder.indexOf(t) < 0) tagOrder.push(t); }); });
    var tagInfo = {};
    (spec.tags || []).forEach(function (t) { tagInfo[t.name] = t; });
    var webhookOps = operations(spec.webhooks).map(function (o) { o.webhook = true; return o; });
    tagOrder.forEach(function (tag) {
      var inTag = ops.filter(function (o) { return (o.op.tags || ["Other"]).indexOf(tag) >= 0; });
      if (!inTag.length) return;
      append(toc, el("div", { cls: "group", text: tag }));
      append(content, el("h2", { id: "tag-" + slug(tag), text: tag }));
      if (tagInfo[tag] && tagInfo[tag].description) append(content, markdown(tagInfo[tag].description));
      inTag.forEach(function (o) {
        append(toc, el("a", { href: "#" + opId(o), title: o.op.summary || o.path, "data-filter": (o.method + " " + o.path + " " + (o.op.summary || "") + " " + (o.op.operationId || "")).toLowerCase() },
          el("span", { cls: "m " + o.method, text: o.method.toUpperCase() }), o.path));
        append(content, renderOperation(o));
      });
    });

    if (webhookOps.length) {
      append(toc, el("div", { cls: "group", text: "Webhooks (sent to you)" }));
      append(content, el("h2", { id: "webhooks", text: "Webhooks (sent to you)" }));
      webhookOps.forEach(function (o) {
        append(toc, el("a", { href: "#" + opId(o), "data-filter": ("webhook " + o.path + " " + (o.op.summary || "")).toLowerCase() },
          el("span", { cls: "m " + o.method, text: o.method.toUpperCase() }), o.path));
        append(content, renderOperation(o));
      });
    }

    var schemas = components.schemas || {};
    var names = Object.keys(schemas).sort();
    if (names.length) {
      append(toc, el("div", { cls: "group", text: "Schemas" }));
      append(content, el("h2", { id: "schemas", text: "Schemas" }));
      names.forEach(function (name) {
        append(toc, el("a", { href: "#schema-" + slug(name), "data-filter": ("schema " + name).toLowerCase(), text: name }));
        append(content, el("section", { id: "schema-" + slug(name) }, el("h3", null, el("code", { text: name })), schemaBlock(schemas[name])));
      });
    }
    if (location.hash) {
      var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) target.scrollIntoView();
    }
  }

  function applyFilter() {
    var q = document.getElementById("filter").value.trim().toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll("#toc a[data-filter]"), function (a) {
      a.classList.toggle("hidden", q !== "" && a.getAttribute("data-filter").indexOf(q) < 0);
    });
  }

  document.getElementById("filter").addEventListener("input", applyFilter);

  fetch(SPEC_URL, { headers: { "Accept": "application/json" } })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(function (json) { spec = json; render(); })
    .catch(function (err) {
      var content = document.getElementById("content");
      content.textContent = "";
      append(content, el("p", { id: "error" }, "Could not load " + SPEC_URL + ": " + err.message));
    });
})();
