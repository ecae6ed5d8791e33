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
