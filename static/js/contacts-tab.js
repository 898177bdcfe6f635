// The Contacts tab: "Select all on this page" ticks every row, and the rows tell it back (ticked when all
// are, mixed when some are). Without this script the page still works: the server reads a ticked
// "select all on this page" as every contact of the page.
(function () {
  "use strict";
  const form = document.getElementById("bulk-form");
  const page = form && form.querySelector("#select-page");
  if (!page) {
    return;
  }
  const rows = () => Array.from(form.querySelectorAll('input[name="contact_ids"]'));
  page.addEventListener("change", () => {
    rows().forEach((box) => {
      box.checked = page.checked;
    });
  });
  form.addEventListener("change", (event) => {
    if (event.target.name !== "contact_ids") {
      return;
    }
    const ticked = rows().filter((box) => box.checked).length;
    page.checked = ticked === rows().length;
    page.indeterminate = ticked > 0 && ticked < rows().length;
  });
})();
