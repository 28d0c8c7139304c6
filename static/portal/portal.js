// Progressive enhancements: every page works without them.
(function () {
  "use strict";

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // Copy the secret shown once.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      const source = document.querySelector(button.dataset.copy);
      source.select();
      const done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () {
          document.execCommand("copy");
          done();
        });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  // Check the filter against the ticked types' example payloads, on the server's own rules.
  const check = document.getElementById("filter-check");
  if (check) {
    const output = document.getElementById("filter-result");
    const form = check.closest("form");
    let timer = null;
    const run = function () {
      const types = Array.from(form.querySelectorAll("input[name=event_types]:checked"))
        .map(function (box) { return box.value; });
      fetch(check.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ filter: form.elements.filter.value, event_types: types }),
      })
        .then(function (response) { return response.json(); })
        .then(function (result) {
          output.classList.toggle("bad", Boolean(result.problem));
          if (result.problem) {
            output.textContent = result.problem;
            return;
          }
          const names = Object.keys(result.matches);
          if (!form.elements.filter.value.trim()) {
            output.textContent = "No filter: every event of its types.";
          } else if (!names.length) {
            output.textContent = "Valid. Tick an event type to check it against its example.";
          } else {
            output.textContent = names.map(function (name) {
              return name + (result.matches[name] ? " ✓ matches" : " ✗ no match");
            }).join(" · ");
          }
        })
        .catch(function () { output.textContent = "Could not check now."; });
    };
    check.addEventListener("click", run);
    form.elements.filter.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 400);
    });
  }
})();
