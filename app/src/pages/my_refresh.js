// My requests from a stale copy (app/src/pages/my.rs): asks for the page
// again with a fresh copy (the lists' data-refresh) and puts its lists in
// place of these, keeping the focus on the same button and telling screen
// readers. Without JavaScript the page says how old the lists are.
(() => {
  const lists = document.getElementById("my-lists");
  const url = lists && lists.dataset.refresh;
  if (!url) return;
  // A form is known by where it posts and the item it acts on.
  const formKey = (form) =>
    form && `${form.getAttribute("action")} ${form.querySelector("input[name=id], input[name=cancel]")?.value}`;
  fetch(url, { credentials: "same-origin" })
    .then((answer) => (answer.ok ? answer.text() : Promise.reject(answer.status)))
    .then((html) => {
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("my-lists");
      const shown = document.getElementById("my-lists");
      if (!fresh || !shown) return;
      const focused = document.activeElement;
      const key = shown.contains(focused) ? formKey(focused.closest("form")) : null;
      const adopted = document.adoptNode(fresh);
      shown.replaceWith(adopted);
      if (key) {
        const same = Array.from(adopted.querySelectorAll("form")).find((f) => formKey(f) === key);
        same?.querySelector("button")?.focus();
      }
      // Still stale: the library system could not be asked; the new lists say so.
      const said = document.getElementById("my-refreshed");
      if (said && !adopted.dataset.refresh) said.textContent = said.dataset.text;
    })
    .catch(() => {});
})();
