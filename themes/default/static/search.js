/*
 * Search page for site-builder archives: the UI, over one of two engines.
 *
 * Served over http(s), it uses Pagefind's JavaScript API. From disk (file://),
 * where browsers block Pagefind's fetch() and modules, and whenever Pagefind
 * fails to load, it uses the offline index (static/offline-search.js, loaded
 * before this file). Both engines answer the same calls: filters(),
 * search(query, {filters, sort}) -> {results: [{data()}]}, preload(query).
 *
 * Binds to the markup of templates/search.html:
 *   form#search-form  data-bundle (Pagefind bundle, relative to the page),
 *                     data-offline (offline index folder, relative to the page),
 *                     data-root (site root, relative to the page), and the
 *                     translated UI strings as data-label-* / data-msg-* /
 *                     data-filter-* attributes
 *   input#search-input, fieldset#search-filters, select#search-sort,
 *   p#search-status (live region), ol#search-results
 *
 * No UI text is written here: every visible string comes from the template.
 * Nothing is loaded from anywhere but the site itself.
 */
(function () {
  "use strict";

  /* Filters offered, in this order, when the index has them. */
  var FILTER_NAMES = ["region", "tag", "year", "measure"];
  var MAX_RESULTS = 50;
  var DEBOUNCE_MS = 200;

  var form = document.getElementById("search-form");
  var input = document.getElementById("search-input");
  var filterBox = document.getElementById("search-filters");
  var sortSelect = document.getElementById("search-sort");
  var statusEl = document.getElementById("search-status");
  var resultsEl = document.getElementById("search-results");
  if (!form || !input || !statusEl || !resultsEl) {
    return;
  }

  var strings = form.dataset;
  var root = strings.root || "";
  var defaultSort = sortSelect ? sortSelect.value : "";
  var engine = null; /* Pagefind's module, or the offline engine */
  var failed = false;
  var selects = {}; /* filter name -> <select> */
  var timer = null;
  var generation = 0; /* guards against out-of-order search results */

  /* ---- strings ---------------------------------------------------------- */

  function text(key) {
    return strings[key] || "";
  }

  /* Fills "{name}" placeholders; unknown placeholders are left as they are. */
  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name)
        ? String(values[name])
        : whole;
    });
  }

  function setStatus(message) {
    statusEl.textContent = message;
  }

  /* ---- URLs ------------------------------------------------------------- */

  /*
   * Both engines give root-relative URLs ("/events/foo/"; Pagefind's baseUrl
   * is set to "/").
   * Make them relative to this page through data-root, so the site works at
   * the root of a host, under a subpath, and from disk; directory URLs get
   * "index.html" so that they also work without a web server.
   */
  function pageUrl(url) {
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(url)) {
      return url; /* already absolute */
    }
    var match = /^([^?#]*)(.*)$/.exec(url);
    var path = match[1].replace(/^\/+/, "");
    if (path === "" || path.charAt(path.length - 1) === "/") {
      path += "index.html";
    }
    return root + path + match[2];
  }

  /* ---- excerpt: text nodes and <mark> only ----------------------------- */

  /* The offline engine gives the excerpt as text segments, some marked. */
  function segmentNodes(segments) {
    var fragment = document.createDocumentFragment();
    segments.forEach(function (segment) {
      if (segment.mark) {
        var mark = document.createElement("mark");
        mark.textContent = segment.text;
        fragment.appendChild(mark);
      } else {
        fragment.appendChild(document.createTextNode(segment.text));
      }
    });
    return fragment;
  }

  /*
   * Pagefind's excerpt is entity-encoded text with <mark> elements. Parse it
   * in an inert document and copy over only text and <mark>, so that nothing
   * else from the index can ever become markup on this page.
   */
  function excerptNodes(html) {
    var fragment = document.createDocumentFragment();
    var parsed = new DOMParser().parseFromString(
      "<!doctype html><body>" + (html || ""),
      "text/html"
    );
    parsed.body.childNodes.forEach(function (node) {
      if (node.nodeType === Node.ELEMENT_NODE && node.localName === "mark") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        fragment.appendChild(mark);
      } else if (node.textContent) {
        fragment.appendChild(document.createTextNode(node.textContent));
      }
    });
    return fragment;
  }

  /* ---- page URL (?q=…&region=…&sort=…) --------------------------------- */

  function writeLocation(query, filters) {
    if (!window.history || !window.history.replaceState) {
      return;
    }
    var next = new URLSearchParams(window.location.search);
    next.delete("q");
    FILTER_NAMES.forEach(function (name) {
      next.delete(name);
    });
    next.delete("sort");
    if (query) {
      next.set("q", query);
    }
    Object.keys(filters).forEach(function (name) {
      next.set(name, filters[name]);
    });
    if (sortSelect && sortSelect.value !== defaultSort) {
      next.set("sort", sortSelect.value);
    }
    var search = next.toString();
    var url =
      window.location.pathname + (search ? "?" + search : "") +
      window.location.hash;
    try {
      window.history.replaceState(window.history.state, "", url);
    } catch (err) {
      /* some file:// contexts refuse replaceState; the search still works */
    }
  }

  /* ---- filters ---------------------------------------------------------- */

  function compareValues(a, b) {
    return a.localeCompare(b, document.documentElement.lang || undefined, {
      numeric: true,
      sensitivity: "base",
    });
  }

  function buildFilters(available, params) {
    if (!filterBox) {
      return;
    }
    var built = 0;
    FILTER_NAMES.forEach(function (name) {
      var counts = available && available[name];
      if (!counts || Object.keys(counts).length === 0) {
        return;
      }
      var labelKey = "filter" + name.charAt(0).toUpperCase() + name.slice(1);
      var id = "search-filter-" + name;

      var wrapper = document.createElement("div");
      wrapper.className = "search-filter";
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = text(labelKey);
      var select = document.createElement("select");
      select.id = id;
      select.name = name;
      select.dataset.filter = name;

      var all = document.createElement("option");
      all.value = "";
      all.textContent = text("labelAll");
      select.appendChild(all);
      Object.keys(counts)
        .sort(compareValues)
        .forEach(function (value) {
          var option = document.createElement("option");
          option.value = value;
          option.textContent = value + " (" + counts[value] + ")";
          select.appendChild(option);
        });

      var wanted = params.get(name);
      if (wanted && Object.prototype.hasOwnProperty.call(counts, wanted)) {
        select.value = wanted;
      }
      select.addEventListener("change", runNow);

      wrapper.appendChild(label);
      wrapper.appendChild(select);
      filterBox.appendChild(wrapper);
      selects[name] = select;
      built += 1;
    });
    filterBox.hidden = built === 0;
  }

  function chosenFilters() {
    var chosen = {};
    Object.keys(selects).forEach(function (name) {
      if (selects[name].value) {
        chosen[name] = selects[name].value;
      }
    });
    return chosen;
  }

  function chosenSort() {
    var value = sortSelect ? sortSelect.value : "";
    var match = /^([\w-]+):(asc|desc)$/.exec(value);
    var sort = {};
    if (match) {
      sort[match[1]] = match[2];
    }
    return sort;
  }

  /* ---- results ---------------------------------------------------------- */

  function clearResults() {
    while (resultsEl.firstChild) {
      resultsEl.removeChild(resultsEl.firstChild);
    }
  }

  function renderResult(data) {
    var meta = data.meta || {};
    var item = document.createElement("li");
    item.className = "search-result";

    var heading = document.createElement("h2");
    heading.className = "search-result-title";
    var link = document.createElement("a");
    link.href = pageUrl(data.url || "/");
    link.textContent = meta.title || data.url || "";
    heading.appendChild(link);
    item.appendChild(heading);

    if (meta.date) {
      var date = document.createElement("p");
      date.className = "search-result-date";
      date.textContent = meta.date;
      item.appendChild(date);
    }

    if (data.excerpt || (data.segments && data.segments.length)) {
      var excerpt = document.createElement("p");
      excerpt.className = "search-result-excerpt";
      excerpt.appendChild(
        data.segments ? segmentNodes(data.segments) : excerptNodes(data.excerpt)
      );
      item.appendChild(excerpt);
    }
    return item;
  }

  /* ---- searching -------------------------------------------------------- */

  /* Neither engine could load: give up. */
  function showFatal(err) {
    failed = true;
    showError(err);
  }

  /* One search failed (e.g. a lost connection): say so; the next may work. */
  function showError(err) {
    clearResults();
    setStatus(text("msgError"));
    form.removeAttribute("aria-busy");
    if (err && window.console) {
      window.console.error(err);
    }
  }

  function run() {
    timer = null;
    if (failed || !engine) {
      return;
    }
    var current = ++generation;
    var query = input.value.trim();
    var filters = chosenFilters();
    var hasFilters = Object.keys(filters).length > 0;
    writeLocation(query, filters);

    if (!query && !hasFilters) {
      clearResults();
      setStatus("");
      form.removeAttribute("aria-busy");
      return;
    }

    form.setAttribute("aria-busy", "true");
    engine
      .search(query || null, { filters: filters, sort: chosenSort() })
      .then(function (search) {
        if (current !== generation) {
          return null;
        }
        var results = (search && search.results) || [];
        var shown = results.slice(0, MAX_RESULTS);
        return Promise.all(
          shown.map(function (result) {
            return result.data();
          })
        ).then(function (items) {
          if (current !== generation) {
            return;
          }
          clearResults();
          items.forEach(function (data) {
            resultsEl.appendChild(renderResult(data));
          });
          setStatus(
            results.length === 0
              ? text("msgNone")
              : format(text("msgCount"), {
                n: results.length,
                shown: shown.length,
              })
          );
          form.removeAttribute("aria-busy");
        });
      })
      .catch(function (err) {
        if (current === generation) {
          showError(err);
        }
      });
  }

  function runNow() {
    if (timer !== null) {
      window.clearTimeout(timer);
    }
    run();
  }

  function runSoon() {
    if (timer !== null) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(run, DEBOUNCE_MS);
    if (engine && !failed && input.value.trim()) {
      /* start fetching index chunks while the user is still typing */
      engine.preload(input.value.trim(), { filters: chosenFilters() })
        .catch(function () {});
    }
  }

  /* ---- start ------------------------------------------------------------ */

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    runNow();
  });
  input.addEventListener("input", runSoon);
  if (sortSelect) {
    sortSelect.addEventListener("change", runNow);
  }

  var params = new URLSearchParams(window.location.search);
  if (params.has("q")) {
    input.value = params.get("q");
  }
  if (sortSelect && params.has("sort")) {
    var wantedSort = params.get("sort");
    Array.prototype.forEach.call(sortSelect.options, function (option) {
      if (option.value === wantedSort) {
        sortSelect.value = wantedSort;
      }
    });
  }
  if (filterBox) {
    filterBox.hidden = true; /* until filters are known */
  }
  setStatus(text("msgLoading"));
  form.setAttribute("aria-busy", "true");

  function startPagefind() {
    var bundle = new URL(strings.bundle || "pagefind/", document.baseURI);
    return import(new URL("pagefind.js", bundle).href).then(function (module) {
      return module
        .options({ basePath: bundle.href, baseUrl: "/" })
        .then(function () {
          return module.init();
        })
        .then(function () {
          return module;
        });
    });
  }

  function startOffline() {
    var offline = window.SiteBuilderOfflineSearch;
    if (!offline || !strings.offline) {
      return Promise.reject(new Error("no offline search index on this page"));
    }
    var local = offline.open(new URL(strings.offline, document.baseURI).href);
    return local.init().then(function () {
      return local;
    });
  }

  var started =
    window.location.protocol === "file:"
      ? startOffline()
      : startPagefind().catch(function (err) {
        if (window.console) {
          window.console.warn("Pagefind did not load; using the offline index.", err);
        }
        return startOffline();
      });
  started
    .then(function (loaded) {
      return loaded.filters().then(function (available) {
        engine = loaded;
        buildFilters(available, params);
        form.removeAttribute("aria-busy");
        setStatus("");
        run();
      });
    })
    .catch(showFatal);
})();
