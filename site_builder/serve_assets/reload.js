/* Live reload for `site-builder serve`: served from memory, never written into a built site.
   Reloads the page after each successful rebuild; after a failed one, lists the problems over the
   page until a build succeeds. Text goes in with textContent only: messages quote the content. */
(function () {
  "use strict";
  var OVERLAY = "site-builder-serve-errors";
  var script = document.currentScript;
  var build = (script && script.getAttribute("data-build")) || "0";
  var source = new EventSource("/__serve/events?since=" + encodeURIComponent(build));

  source.addEventListener("reload", function () {
    source.close();
    window.location.reload();
  });
  source.addEventListener("errors", function (event) {
    var problems = JSON.parse(event.data);
    if (problems.length) {
      show(problems);
    } else {
      hide();
    }
  });

  function hide() {
    var old = document.getElementById(OVERLAY);
    if (old) {
      old.remove();
    }
  }

  function add(parent, tag, text, style) {
    var node = document.createElement(tag);
    if (text) {
      node.textContent = text;
    }
    Object.assign(node.style, style || {});
    parent.appendChild(node);
    return node;
  }

  function show(problems) {
    hide();
    var box = document.createElement("section");
    box.id = OVERLAY;
    box.setAttribute("role", "alert");
    box.setAttribute("aria-labelledby", OVERLAY + "-title");
    box.lang = "en";
    box.dir = "ltr";
    Object.assign(box.style, {
      position: "fixed", top: "0", left: "0", right: "0", zIndex: "2147483647",
      maxHeight: "75vh", overflow: "auto", boxSizing: "border-box", padding: "1rem 1.25rem",
      background: "#fff", color: "#111", borderBottom: "0.4rem solid #b00020",
      boxShadow: "0 0.3rem 1rem rgba(0, 0, 0, 0.4)", font: "1rem/1.5 system-ui, sans-serif", textAlign: "left"
    });
    var count = problems.length === 1 ? "1 problem" : problems.length + " problems";
    var title = add(box, "h2", "The build failed: " + count, { margin: "0 0 0.5rem", fontSize: "1.25rem", color: "#b00020" });
    title.id = OVERLAY + "-title";
    var list = add(box, "ul", "", { margin: "0 0 0.75rem", paddingLeft: "1.25rem" });
    problems.forEach(function (problem) {
      var item = add(list, "li", "", { margin: "0.25rem 0" });
      add(item, "code", problem.text, { whiteSpace: "pre-wrap", overflowWrap: "anywhere", fontSize: "0.95rem" });
    });
    add(box, "p", "The page below is the last successful build. Fix the file and save: " +
      "this page reloads when the build succeeds.", { margin: "0 0 0.75rem" });
    var button = add(box, "button", "Hide", { font: "inherit", padding: "0.25rem 1rem" });
    button.type = "button";
    button.addEventListener("click", hide);
    (document.body || document.documentElement).appendChild(box);
  }
})();
