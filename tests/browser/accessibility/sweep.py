"""Every main page in a real browser, as a platform admin and as a tenant viewer: axe-core finds no
violation of impact serious or critical, and at 390 px wide (a phone) no page scrolls sideways
(tables scroll inside their own `.table-responsive` box). Each page is photographed, at desktop
width and at 390 px, to test-artifacts/screenshots/ for a person to look at.

Each page is opened once and checked at both widths by resizing the window: the layout follows the
width through CSS media queries alone, and one visit instead of two halves the sweep's time.

The two roles' sweeps are two test files (test_platform_admin.py, test_tenant_viewer.py), not one
parametrized test: pytest-xdist gives each file to one worker, and the sweep is the suite's longest test, so
two files let both workers share it."""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.fixtures.berth import TEST_PASSWORD

SCREENSHOTS = Path("test-artifacts/screenshots")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The outermost elements reaching past the right edge: what to fix when a page scrolls sideways.
STICKING_OUT = r"""width => [...document.querySelectorAll("main *, nav *")]
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .filter(e => e.parentElement.getBoundingClientRect().right <= width + 1)
  .map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).trim().split(/\s+/).join(".") : ""))
  .slice(0, 5)"""
BLOCKING = {"serious", "critical"}
VIEWER = "a-viewer"
NAMESPACE = "team-a"  # the tenant's RBD namespace
HARBOR = "harbor.example.com"  # the registry in the pull secret (never contacted)
MANAGED = ["team-a", "team-pull"]  # the managed pull secret: tenant, name
WEBHOOK = "ops-chat"  # a notification webhook, with one delivery


@dataclass
class Site:
    """What the pages show: a pool with the tenant's namespace, an image with a snapshot, a QoS limit
    and a metadata key, a trashed image, a finished task, a pull secret in the tenant's Kubernetes
    namespace, a managed pull secret kept from it (in sync, so its fleet table has stopped polling),
    and a webhook with a delivery of a notification."""

    pool: str
    kube_namespace: str
    task_id: str
    trash_id: str
    binding_id: int

    def pages(self) -> dict[str, str]:
        rbd = {"namespace": NAMESPACE}
        image = [self.pool, "web-data"]
        kube = {"namespace": self.kube_namespace}
        return {
            "overview": reverse("overview"),
            "pool-list": reverse("storage:pool-list"),
            "pool-detail": reverse("storage:pool-detail", args=[self.pool]),
            "image-list": with_query(reverse("storage:image-list", args=[self.pool]), rbd),
            "image-detail": with_query(reverse("storage:image-detail", args=[self.pool, "web-data"]), rbd),
            "image-create": with_query(reverse("storage:image-create", args=[self.pool]), rbd),
            "trash-list": with_query(reverse("storage:trash-list", args=[self.pool]), rbd),
            "snapshot-schedules": with_query(reverse("storage:snapshot-schedule-list", args=[self.pool]), rbd),
            "pool-qos": reverse("storage:pool-qos", args=[self.pool]),
            "pool-options": reverse("storage:pool-options", args=[self.pool]),
            "image-qos": with_query(reverse("storage:image-qos", args=image), rbd),
            "image-features": with_query(reverse("storage:image-features", args=image), rbd),
            "image-metadata": with_query(reverse("storage:image-metadata", args=image), rbd),
            "image-metadata-remove": with_query(reverse("storage:image-metadata-remove", args=[*image, "owner"]), rbd),
            "snapshot-rename": with_query(reverse("storage:snapshot-rename", args=[*image, "before-upgrade"]), rbd),
            "snapshot-copy": with_query(reverse("storage:snapshot-copy", args=[*image, "before-upgrade"]), rbd),
            "secret-list": with_query(reverse("registry:secret-list"), kube),
            "secret-detail": reverse("registry:secret-detail", args=[self.kube_namespace, "regkey"]),
            "pull-doctor": with_query(reverse("registry:doctor"), kube),
            "managed-list": reverse("registry:managed-list"),
            "managed-detail": reverse("registry:managed-detail", args=MANAGED),
            "webhooks": reverse("registry:webhook-list"),
            "webhook-deliveries": reverse("registry:webhook-detail", args=[WEBHOOK]),
            "managed-rotate": reverse("registry:managed-rotate", args=MANAGED),
            "tenant-list": reverse("tenant-list"),
            "tenant-detail": reverse("tenant-detail", args=["team-a"]),
            "activity": reverse("activity"),
            "task": reverse("task-status", args=[self.task_id]),
            "schedules": reverse("schedule-list"),
            "password-change": reverse("password_change"),
        }

    def forms(self) -> dict[str, str]:
        """The forms and confirmations behind the main pages' buttons (a tenant viewer is refused
        most of them: the refusal is a page too)."""
        rbd = {"namespace": NAMESPACE}
        image = [self.pool, "web-data"]
        secret = [self.kube_namespace, "regkey"]
        return {
            "pool-create": reverse("storage:pool-create"),
            "pool-quota": reverse("storage:pool-quota", args=[self.pool]),
            "namespace-create": reverse("storage:namespace-create", args=[self.pool]),
            "image-resize": with_query(reverse("storage:image-resize", args=image), rbd),
            "image-delete": with_query(reverse("storage:image-delete", args=image), rbd),
            "snapshot-rollback": with_query(reverse("storage:snapshot-rollback", args=[*image, "before-upgrade"]), rbd),
            "trash-restore-as": with_query(reverse("storage:trash-restore-as", args=[self.pool, self.trash_id]), rbd),
            "trash-empty": with_query(reverse("storage:trash-purge-forced", args=[self.pool]), rbd),
            "trash-auto-purge": reverse("storage:trash-auto-purge"),
            "snapshot-schedule-create": with_query(reverse("storage:snapshot-schedule-create", args=[self.pool]), rbd),
            "tenant-quota": reverse("tenant-quota", args=["team-a"]),
            "tenant-create": reverse("tenant-create"),
            "tenant-edit": reverse("tenant-edit", args=["team-a"]),
            "tenant-delete": reverse("tenant-delete", args=["team-a"]),
            "tenant-bind": reverse("tenant-bind", args=["team-a"]),
            "tenant-unbind": reverse("tenant-unbind", args=["team-a", self.binding_id]),
            "tenant-registry-quota": reverse("tenant-registry-quota", args=["team-a"]),
            "secret-rotate": with_query(reverse("registry:secret-rotate", args=secret), {"server": HARBOR}),
            "secret-add-entry": reverse("registry:secret-add-entry", args=secret),
            "secret-link": reverse("registry:secret-link", args=secret),
            "secret-delete": reverse("registry:secret-delete", args=secret),
            "managed-create": reverse("registry:managed-create"),
            "webhook-create": reverse("registry:webhook-create"),
            "managed-edit": reverse("registry:managed-edit", args=MANAGED),
            "managed-delete": reverse("registry:managed-delete", args=MANAGED),
            "pull-doctor-image": with_query(
                reverse("registry:doctor"), {"namespace": self.kube_namespace, "image": f"{HARBOR}/team/web:1.2"}
            ),
        }


def with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}"


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}{reverse('login')}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


# Counts htmx requests in flight. Playwright's "networkidle" would wait 500 ms of silence on every page;
# the panels and tables htmx loads after the page are known to have arrived once this reaches zero and
# no element is still being requested for, swapped or settled (a swapped-in fragment may start loads of
# its own). In a context without this script the classes alone tell.
COUNT_HTMX_REQUESTS = """
window.berthHtmxInFlight = 0;
document.addEventListener("htmx:beforeRequest", () => { window.berthHtmxInFlight += 1; });
document.addEventListener("htmx:afterRequest", () => { window.berthHtmxInFlight -= 1; });
"""
HTMX_SETTLED = """() => document.readyState === "complete" && (window.berthHtmxInFlight ?? 0) === 0
  && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")"""


def settle(page: Page) -> None:
    """Waits for the panels and tables that htmx loads after the page itself."""
    page.wait_for_function(HTMX_SETTLED, polling=50)


class Audit:
    """Runs axe on the pages one opens, at each of the given widths (desktop, then phone, unless
    told), photographs them, and gathers what fails."""

    def __init__(self, page: Page, label: str, *viewports: dict[str, int]):
        self.page = page
        self.label = label
        self.viewports = viewports or (DESKTOP, PHONE)
        self.axe = Axe()
        self.problems: list[str] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def check(self, name: str, *, restore: bool = True) -> None:
        settle(self.page)
        before = self.page.viewport_size
        # The width the page is at goes first: each resize costs a layout of the whole page.
        for viewport in sorted(self.viewports, key=lambda viewport: viewport != before):
            width = "phone" if viewport == PHONE else "desktop"
            if viewport != self.page.viewport_size:
                self.page.set_viewport_size(viewport)
            self.check_at(f"{name} ({width})", f"{self.label}-{width}-{name}", viewport)
        if restore and before and before != self.page.viewport_size:
            self.page.set_viewport_size(before)

    def check_at(self, name: str, screenshot: str, viewport: dict[str, int]) -> None:
        self.page.screenshot(path=SCREENSHOTS / f"{screenshot}.jpeg", full_page=True, type="jpeg", quality=80)
        for violation in self.violations():
            if violation["impact"] in BLOCKING:
                targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
                self.problems.append(
                    f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} — {targets}"
                )
        if viewport == PHONE:
            width = self.page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide = self.page.evaluate(STICKING_OUT, PHONE["width"])
                self.problems.append(f"{name}: the page is {width} px wide on a {PHONE['width']} px screen — {wide}")

    def violations(self) -> list[dict]:
        # axe stays loaded in the document, so the second width's check does not parse it again.
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(self.axe.axe_script)
        # Only the violations leave the page: the passes and inapplicable rules, with their metadata, took
        # a third of the check's time to serialise and send.
        return self.page.evaluate(
            "options => axe.run(document, options).then(results => results.violations)", {"resultTypes": ["violations"]}
        )

    def visit(self, name: str, url: str) -> None:
        """Opens a page and checks it. The next page opens at whichever width this one was left at (the layout
        follows the width through CSS alone), saving a resize back and forth."""
        self.page.goto(url)
        self.check(name, restore=False)


def walk_the_wizard(audit: Audit, base_url: str, site: Site, registry) -> None:
    """Each step of the wizard, filled in as a person would, checked on the way."""
    page = audit.page
    page.goto(f"{base_url}{reverse('registry:wizard-start')}")
    audit.check("wizard-target")
    page.get_by_label(site.kube_namespace).check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("wizard-credentials")).to_be_visible()
    audit.check("wizard-credentials")
    row = page.get_by_test_id("registry-row").first
    row.get_by_label("Registry server").fill(registry.url)
    row.get_by_label("Username").fill(registry.username)
    row.get_by_label("Password").fill(registry.password)
    row.get_by_role("button", name="Test login").click()
    expect(row.get_by_test_id("login-result").locator("[data-outcome]")).to_be_visible()
    audit.check("wizard-credentials-tested")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("wizard-options")).to_be_visible()
    page.get_by_label("Secret name").press_sequentially("app-key")
    expect(page.get_by_test_id("name-check").locator("[data-valid]")).to_be_visible()
    audit.check("wizard-options")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("wizard-review")).to_be_visible()
    audit.check("wizard-review")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("result-row").or_(page.locator('[role="alert"]')).first).to_be_visible()
    audit.check("wizard-result")


def check_the_folded_menu(audit: Audit) -> None:
    """On a phone the navigation folds behind one button."""
    page = audit.page
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("link", name="Storage")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Storage")).to_be_visible()
    settle(page)
    audit.check_at("menu (phone)", f"{audit.label}-phone-menu", PHONE)
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Storage")).to_be_hidden()
    page.set_viewport_size(DESKTOP)


def sweep_every_main_page(browser, base_url: str, site: Site, username: str, role: str, registry) -> None:
    """Checks every page of the site and each step of the wizard, as the given user; fails the test with
    everything found."""
    # Bootstrap drops its transitions for reduced motion: axe then never measures a colour halfway
    # through a fade, and the folding menu opens at once.
    context = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
    context.add_init_script(COUNT_HTMX_REQUESTS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    audit = Audit(page, role)

    audit.visit("login", f"{base_url}{reverse('login')}")
    log_in(page, base_url, username)
    check_the_folded_menu(audit)
    for name, url in (site.pages() | site.forms()).items():
        audit.visit(name, f"{base_url}{url}")
    page.set_viewport_size(DESKTOP)
    walk_the_wizard(audit, base_url, site, registry)
    context.close()

    if audit.problems:
        pytest.fail("\n".join(audit.problems), pytrace=False)
