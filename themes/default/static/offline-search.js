/*
 * Offline search for site-builder archives: the search engine of the search page when the site
 * is read from disk (file://), where browsers block Pagefind's fetch() and JavaScript modules,
 * and whenever Pagefind fails to load.
 *
 * It reads the index that site_builder/offline.py writes into search-offline/: plain scripts,
 * each calling the global sbOffline(kind, key, data), added as <script src> elements only when a
 * query needs them (meta.js first; then the term shards of the query's words, the filter files
 * of the filters chosen, and the display chunks of the results shown).
 *
 * window.SiteBuilderOfflineSearch.open(baseUrl) returns an engine with the part of Pagefind's
 * interface that static/search.js uses: init(), filters(), preload(query),
 * search(query, {filters, sort}) -> {results: [{id, score, data()}]}; data() gives
 * {url, meta: {title, date}, segments: [{text, mark}]}. Nothing here uses eval or HTML parsing:
 * index data only ever becomes text.
 *
 * words() must stay identical to words() in site_builder/offline.py (tests/test_offline.py runs
 * both over a table of strings). It approximates Pagefind's normalisation and stemming: NFKD,
 * lower case, combining marks dropped (é ~ e, Arabic tashkeel), tatweel and zero-width joiners
 * dropped so they never split a word, ٱ -> ا, ى -> ي, ة -> ه, ς -> σ, Arabic-Indic digits ->
 * ASCII, NFC; each query word then matches every indexed word it begins ("kill" finds "killed",
 * "killings").
 */
(function () {
  "use strict";

  var FORMAT = 2; /* site_builder/offline.py FORMAT */
  var FILTER_NAMES = ["region", "tag", "year", "measure"];
  var PREFIX_WEIGHT = 0.5; /* a word the query word only begins counts half */

  /* ---- words ------------------------------------------------------------ */

  var WORD = /[\p{L}\p{N}]+/gu;
  var DROP = /[\p{M}\u200B-\u200D\u0640]+/gu;
  var FOLD = /[\u0671\u0649\u0629\u03C2\u0660-\u0669\u06F0-\u06F9]/g;
  var FOLDED = {
    "\u0671": "\u0627",
    "\u0649": "\u064A",
    "\u0629": "\u0647",
    "\u03C2": "\u03C3",
  };
  /* a piece of an excerpt that may hold a word, for highlighting */
  var PIECE = /[\p{L}\p{N}\p{M}\u200B-\u200D\u0640]+/gu;

  function fold(c) {
    var code = c.charCodeAt(0);
    if (code >= 0x0660 && code <= 0x0669) {
      return String(code - 0x0660);
    }
    if (code >= 0x06f0 && code <= 0x06f9) {
      return String(code - 0x06f0);
    }
    return FOLDED[c];
  }

  /* The whole text normalised, then split into runs of letters and digits. */
  function words(text) {
    var normal = String(text || "")
      .normalize("NFKD")
      .toLowerCase()
      .replace(DROP, "")
      .replace(FOLD, fold)
      .normalize("NFC");
    return normal.match(WORD) || [];
  }

  /* ---- loading index files ---------------------------------------------- */

  /* script URL -> callbacks waiting for its data (the file names itself by document.currentScript) */
  var waiting = new Map();

  window.sbOffline = function (kind, key, data) {
    var script = document.currentScript;
    var src = script ? script.src : "";
    var callbacks = waiting.get(src) || [];
    waiting.delete(src);
    callbacks.forEach(function (callback) {
      callback(kind, data);
    });
  };

  function loadScript(src, kind) {
    return new Promise(function (resolve, reject) {
      var done = false;
      var script = document.createElement("script");
      var callbacks = waiting.get(src) || [];
      callbacks.push(function (got, data) {
        done = true;
        if (got === kind) {
          resolve(data);
        } else {
          reject(new Error(src + " is not a " + kind + " file"));
        }
      });
      waiting.set(src, callbacks);
      script.onload = function () {
        script.remove();
        if (!done) {
          reject(new Error(src + " is not an index file"));
        }
      };
      script.onerror = function () {
        script.remove();
        waiting.delete(src);
        reject(new Error("could not load " + src));
      };
      script.src = src;
      document.head.appendChild(script);
    });
  }

  /* ---- postings: "gap-1 in base 36" + optional weight letter (A = 2 … Z = 27), comma-separated */

  function decode(postings, each) {
    if (!postings) {
      return;
    }
    var parts = postings.split(",");
    var doc = -1;
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      var last = part.charCodeAt(part.length - 1);
      var weight = 1;
      if (last >= 65 && last <= 90) {
        weight = last - 63;
        part = part.slice(0, -1);
      }
      doc += parseInt(part, 36) + 1;
      each(doc, weight);
    }
  }

  /* ---- excerpt: query words marked, as text segments -------------------- */

  function highlight(text, terms) {
    var segments = [];
    var piece = new RegExp(PIECE.source, "gu");
    var last = 0;
    var match;
    while ((match = piece.exec(text)) !== null) {
      var hit = words(match[0]).some(function (word) {
        return terms.some(function (term) {
          return word.indexOf(term) === 0;
        });
      });
      if (hit) {
        if (match.index > last) {
          segments.push({ text: text.slice(last, match.index), mark: false });
        }
        segments.push({ text: match[0], mark: true });
        last = piece.lastIndex;
      }
    }
    if (last < text.length) {
      segments.push({ text: text.slice(last), mark: false });
    }
    return segments;
  }

  /* ---- the engine --------------------------------------------------------- */

  function open(baseUrl) {
    var files = new Map(); /* path -> Promise of its data */
    var loaded = []; /* paths asked for, in order (the benchmark adds up their sizes) */
    var meta = null;
    var started = null;

    function load(path, kind) {
      var promise = files.get(path);
      if (!promise) {
        loaded.push(path);
        promise = loadScript(new URL(path, baseUrl).href, kind);
        promise.catch(function () {
          files.delete(path); /* a later search may try again */
        });
        files.set(path, promise);
      }
      return promise;
    }

    function init() {
      if (!started) {
        started = load("meta.js", "meta").then(function (data) {
          if (!data || data.format !== FORMAT) {
            throw new Error("the offline search index has an unknown format");
          }
          meta = data;
        });
        started.catch(function () {
          started = null;
        });
      }
      return started;
    }

    function filters() {
      return init().then(function () {
        var out = {};
        FILTER_NAMES.forEach(function (name) {
          out[name] = Object.assign({}, meta.filters[name] || {});
        });
        return out;
      });
    }

    /* The shards that may hold words beginning with `term`. */
    function shardsFor(term) {
      var out = [];
      meta.shards.forEach(function (prefix, n) {
        if (prefix.indexOf(term) === 0 || term.indexOf(prefix) === 0) {
          out.push(n);
        }
      });
      return out;
    }

    function termScores(term) {
      return Promise.all(
        shardsFor(term).map(function (n) {
          return load("terms/" + meta.files[n] + ".js", "terms");
        })
      ).then(function (shards) {
        var scores = new Float64Array(meta.count);
        shards.forEach(function (shard) {
          Object.keys(shard).forEach(function (word) {
            if (word.indexOf(term) === 0) {
              var factor = word === term ? 1 : PREFIX_WEIGHT;
              decode(shard[word], function (doc, weight) {
                scores[doc] += weight * factor;
              });
            }
          });
        });
        return scores;
      });
    }

    function filterMask(name, value) {
      return load("filters/" + name + ".js", "filter").then(function (values) {
        var mask = new Uint8Array(meta.count);
        if (Object.prototype.hasOwnProperty.call(values, value)) {
          decode(values[value], function (doc) {
            mask[doc] = 1;
          });
        }
        return mask;
      });
    }

    function unique(list) {
      return list.filter(function (item, i) {
        return list.indexOf(item) === i;
      });
    }

    function result(doc, score, terms) {
      return {
        id: doc,
        score: score,
        data: function () {
          var chunk = Math.floor(doc / meta.chunk);
          return load("docs/" + chunk + ".js", "docs").then(function (rows) {
            var row = rows[doc - chunk * meta.chunk];
            return {
              url: "/events/" + row[0] + "/index.html",
              meta: { title: row[1], date: row[2] },
              segments: highlight(row[3], terms),
            };
          });
        },
      };
    }

    /* Every word of the query must match (AND), within every filter chosen. */
    function search(query, options) {
      var chosen = (options && options.filters) || {};
      var sort = (options && options.sort) || {};
      var terms = unique(words(query || ""));
      var names = Object.keys(chosen).filter(function (name) {
        return FILTER_NAMES.indexOf(name) >= 0 && chosen[name] !== "" && chosen[name] != null;
      });
      return init()
        .then(function () {
          if ((query && !terms.length) || (!terms.length && !names.length)) {
            return [[], []];
          }
          return Promise.all([
            Promise.all(terms.map(termScores)),
            Promise.all(
              names.map(function (name) {
                return filterMask(name, String(chosen[name]));
              })
            ),
          ]);
        })
        .then(function (parts) {
          var scores = parts[0];
          var masks = parts[1];
          var found = [];
          if (scores.length || masks.length) {
            for (var doc = 0; doc < meta.count; doc++) {
              var total = 0;
              var ok = true;
              for (var s = 0; ok && s < scores.length; s++) {
                total += scores[s][doc];
                ok = scores[s][doc] > 0;
              }
              for (var m = 0; ok && m < masks.length; m++) {
                ok = masks[m][doc] === 1;
              }
              if (ok) {
                found.push({ doc: doc, score: total });
              }
            }
          }
          /* Ids are numbered newest first: date order is id order. */
          if (sort.date === "asc") {
            found.reverse();
          } else if (sort.date !== "desc") {
            found.sort(function (a, b) {
              return b.score - a.score || a.doc - b.doc;
            });
          }
          return {
            results: found.map(function (hit) {
              return result(hit.doc, hit.score, terms);
            }),
          };
        });
    }

    function preload(query) {
      var terms = unique(words(query || ""));
      return init().then(function () {
        return Promise.all(
          terms.map(function (term) {
            return Promise.all(
              shardsFor(term).map(function (n) {
                return load("terms/" + meta.files[n] + ".js", "terms");
              })
            );
          })
        );
      });
    }

    return {
      init: init,
      filters: filters,
      search: search,
      preload: preload,
      loaded: function () {
        return loaded.slice();
      },
    };
  }

  window.SiteBuilderOfflineSearch = { open: open, words: words };
})();
