#!/usr/bin/env python3
"""Drive the QR verification page (GET /verify?id=...) in headless Chromium (Debian's chromium +
chromium-driver, selenium from PyPI) and print what it saw as one JSON object on stdout.

Usage: verify_page.py URL SHOTS_DIR NAME [--upload PDF] [--no-js] [--login TOKEN]

Opens URL at desktop width (1280 px) and phone width (375 px), saving full-page screenshots
SHOTS_DIR/NAME-desktop.png and NAME-phone.png; with --upload, chooses PDF in the page's form,
submits it and saves NAME-report-{desktop,phone}.png. --no-js turns JavaScript off, so the form
is posted by the browser alone. --login TOKEN types TOKEN into the page's login form (the
dashboard) and waits for its data. Elements with data-field / data-metric are reported by name
in "fields" / "metrics" (亮证 scans, the dashboard). Browser console errors (a Content-Security-Policy violation, a
failed asset) are reported in "console". Called by tests/verify_page.rs, which asserts on the
JSON; this script asserts nothing about the page itself.
"""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def driver(no_js):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=zh-CN"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if no_js:
        o.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def shot(d, path, width):
    d.set_window_size(width, 900)
    try:
        h = d.execute_script("return document.documentElement.scrollHeight")
    except Exception:  # script turned off for the page
        h = 2000
    d.set_window_size(width, max(600, min(int(h or 900) + 40, 4000)))
    d.save_screenshot(path)


def text(d, css):
    els = d.find_elements(By.CSS_SELECTOR, css)
    return els[0].text if els else None


def attr(d, css, name):
    els = d.find_elements(By.CSS_SELECTOR, css)
    return els[0].get_attribute(name) if els else None


def page_facts(d):
    return {
        "title": d.title,
        "status_text": text(d, "#status-text"),
        "status_state": attr(d, "#status", "data-state"),
        "licence_type": text(d, "#licence-type"),
        "holder": text(d, "#holder"),
        "issuer": text(d, "#issuer"),
        "identifier": text(d, "#identifier"),
        "heading": text(d, "h1"),
        "has_form": bool(d.find_elements(By.CSS_SELECTOR, "form input[type=file][name=pdf]")),
        "seals": len(d.find_elements(By.CSS_SELECTOR, "ul.seals svg")),
        "error": text(d, ".error h1"),
        "fields": {e.get_attribute("data-field"): e.text
                   for e in d.find_elements(By.CSS_SELECTOR, "[data-field]")},
        "metrics": {e.get_attribute("data-metric"): e.text
                    for e in d.find_elements(By.CSS_SELECTOR, "[data-metric]")},
    }


def main():
    global js_on
    args = sys.argv[1:]
    url, shots, name = args[0], args[1], args[2]
    upload = args[args.index("--upload") + 1] if "--upload" in args else None
    js_on = "--no-js" not in args
    login = args[args.index("--login") + 1] if "--login" in args else None
    d = driver(not js_on)
    out = {}
    try:
        d.set_window_size(1280, 900)
        d.get(url)
        if login:
            d.find_element(By.CSS_SELECTOR, "#token").send_keys(login)
            d.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
            WebDriverWait(d, 30).until(
                EC.presence_of_element_located((By.CSS_SELECTOR, "#board[data-loaded], #login-error:not([hidden])")))
            out["url_after_login"] = d.current_url
        out["page"] = page_facts(d)
        shot(d, f"{shots}/{name}-desktop.png", 1280)
        shot(d, f"{shots}/{name}-phone.png", 375)
        # At phone width nothing may stick out sideways.
        if js_on:
            out["page"]["phone_overflow"] = d.execute_script(
                "return document.documentElement.scrollWidth > window.innerWidth")
        if upload:
            d.set_window_size(1280, 900)
            d.find_element(By.CSS_SELECTOR, "input[type=file][name=pdf]").send_keys(upload)
            d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            WebDriverWait(d, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#report, .error")))
            out["report"] = {
                "url": d.current_url,
                "indication": attr(d, "#report", "data-indication"),
                "verdict": text(d, "#verdict"),
                "why": text(d, "#why"),
                "current_version": text(d, "#current-version"),
                "archived": text(d, "#archived"),
                "checks": [(e.get_attribute("data-check"), e.text)
                           for e in d.find_elements(By.CSS_SELECTOR, "#report li[data-check]")],
                "status_text": text(d, "#status-text"),
                "error": text(d, ".error h1"),
            }
            shot(d, f"{shots}/{name}-report-desktop.png", 1280)
            shot(d, f"{shots}/{name}-report-phone.png", 375)
        out["console"] = [e["message"] for e in d.get_log("browser") if e.get("level") in ("SEVERE", "WARNING")]
    finally:
        d.quit()
    print(json.dumps(out, ensure_ascii=False))


js_on = True
if __name__ == "__main__":
    main()
