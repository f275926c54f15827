"""The browser client at `/`, driven in headless Chromium against a live daphne server.

Debian's Chromium (`apt-get install chromium`) through Playwright for Python; Playwright's
own browser download is never used. Users are created through the UI and the public API
only, so the test sees what a person at the keyboard sees.
"""

import shutil

import pytest
from django.conf import settings

from chatproject.testing import DaphneProcess, http, server_env

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = settings.BASE_DIR / "var" / "screenshots" / "chat.png"
PASSWORD = "a long enough passphrase 42"
WAIT_MS = 15_000  # a shared 2-core machine: generous, and only ever a ceiling, never a sleep


@pytest.fixture
def server(transactional_db):
    process = DaphneProcess(server_env()).start()
    yield process
    print(process.stop())  # shown by pytest when the test fails


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """open_page(url) -> a page in a fresh browser context (its own sessionStorage)."""
    contexts = []

    def open_page(url):
        context = browser.new_context(viewport={"width": 1100, "height": 720})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        tab = len(contexts)
        page.on("console", lambda message: print(f"tab {tab} {message.type}: {message.text}"))
        page.on("pageerror", lambda error: print(f"tab {tab} page error: {error}"))
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()


def register_through_form(page, username):
    page.get_by_test_id("register-link").click()
    form = page.locator("#register-form")
    form.locator("[name=username]").fill(username)
    form.locator("[name=email]").fill(f"{username}@example.com")
    form.locator("[name=full_name]").fill(username.title())
    form.locator("[name=password]").fill(PASSWORD)
    form.locator("[type=submit]").click()
    expect(page.get_by_test_id("chat-list")).to_be_visible()


def log_in(page, username):
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("chat-list")).to_be_visible()


def register_through_api(server, username):
    body = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "full_name": username.title(),
    }
    status, _ = http("POST", f"{server.http_url}/api/v1/auth/register", body=body)
    assert status == 201


def test_two_people_chat_with_typing_and_read_state(server, open_page):
    register_through_api(server, "bob")
    alice = open_page(server.http_url)
    register_through_form(alice, "alice")
    bob = open_page(server.http_url)
    log_in(bob, "bob")

    alice.get_by_test_id("user-search").fill("bob")
    alice.locator("#search-results").get_by_text("@bob").click()
    alice.get_by_test_id("message-input").fill("Hello Bob!")
    alice.get_by_test_id("message-input").press("Enter")
    expect(alice.get_by_test_id("message-item")).to_contain_text("Hello Bob!")

    chat_item = bob.get_by_test_id("chat-item").filter(has_text="Alice")
    expect(chat_item).to_contain_text("Hello Bob!")
    expect(chat_item.get_by_test_id("unread-badge")).to_have_text("1")
    chat_item.click()
    expect(bob.get_by_test_id("message-item")).to_contain_text("Hello Bob!")
    expect(chat_item.get_by_test_id("unread-badge")).to_have_count(0)
    expect(alice.get_by_test_id("read-receipt")).to_have_text("✓✓ Read")

    expect(alice.get_by_test_id("typing-indicator")).to_have_count(0)
    bob.get_by_test_id("message-input").press_sequentially("Hi Alice", delay=30)
    expect(alice.get_by_test_id("typing-indicator")).to_have_text("Bob is typing…")
    bob.get_by_test_id("message-send").click()
    expect(alice.get_by_test_id("message-item").last).to_contain_text("Hi Alice")
    expect(alice.get_by_test_id("typing-indicator")).to_have_count(0)
    expect(bob.get_by_test_id("read-receipt")).to_have_text("✓✓ Read")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    alice.screenshot(path=str(SCREENSHOT))
