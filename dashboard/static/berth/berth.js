// Small behaviours that the CSP keeps out of inline attributes.
document.addEventListener("DOMContentLoaded", () => {
  // Toasts disappear by themselves; errors stay until dismissed.
  document.body.addEventListener("htmx:afterSettle", hideToastsLater);
  hideToastsLater();
});

function hideToastsLater() {
  document.querySelectorAll("#toasts .toast.show:not(.text-bg-danger)").forEach((toast) => {
    setTimeout(() => toast.classList.remove("show"), 6000);
  });
}

// --- Generic views (dashboard/generic) ---
// Berth answers a refused form (400/409) or an unreachable cluster (503) with a fragment that
// explains it; htmx 2 drops error responses by default, so let those fragments be shown.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 400 && status < 600 && event.detail.xhr.getResponseHeader("Content-Type")?.startsWith("text/html")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// --- Registry: pull-secret wizard (templates/registry/_wizard_credentials.html) ---
// "Add registry" clones the formset's empty row (<template>) with the next index; "Remove" drops
// a row. A gap in the indices is fine: the server skips rows that were never filled in.
document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-formset-add]");
  if (add) {
    const prefix = add.dataset.formsetAdd;
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    const template = document.getElementById("registry-row-template");
    const rows = document.querySelector(`[data-formset="${prefix}"]`);
    if (!total || !template || !rows) return;
    const holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replaceAll("__prefix__", total.value);
    const row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(Number(total.value) + 1);
    htmx.process(row);
    row.querySelector("input")?.focus();
    return;
  }
  const remove = event.target.closest("[data-formset-remove]");
  if (remove) {
    remove.closest("[data-formset-row]")?.remove();
  }
});
