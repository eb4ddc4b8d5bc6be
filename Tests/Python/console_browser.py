"""The admin console in a real browser: headless Chromium driven by Selenium (Debian's
chromium and chromium-driver, PyPI's selenium), against a running tokenhub with a store.

Usage: python3 console_browser.py BASE_URL ADMIN_TOKEN CONFIG_PATH SCREENSHOT_DIR
Walks the console as an operator would and checks each step; prints one JSON object with
what it saw; exits 1 with the failed check on stderr.
"""
import json
import os
import sys
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE, TOKEN, CONFIG, SHOTS = sys.argv[1:5]
XSS_NAME = '<img src=x onerror="window.__xss=1">'
XSS_MODEL = '<img src=x onerror="window.__xss=2">'
seen = {}


def check(condition, message):
    if not condition:
        sys.stderr.write("FAILED: " + message + "\n")
        sys.exit(1)


def http(method, path, body=None, token=None):
    request = urllib.request.Request(BASE + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def chat(key, content="hello from the browser test", extra=None):
    body = {"model": "echo-1", "messages": [{"role": "user", "content": content}]}
    body.update(extra or {})
    return http("POST", "/v1/chat/completions", body, token=key)[0]


options = Options()
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
chromium = next((path for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] if os.path.exists(path)), None)
if chromium:
    options.binary_location = chromium
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
# A view re-renders as data arrives: an element found a moment ago may be replaced.
wait = WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException])


def shot(name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def text_of(css):
    return wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css))).text


def go(view, ready_css):
    driver.get(BASE + "/admin/ui/#" + view)
    driver.refresh()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ready_css)))


try:
    # Sign in: a wrong token is refused in place; the right one opens the overview.
    driver.get(BASE + "/admin/ui/")
    wait.until(EC.visibility_of_element_located((By.ID, "token"))).send_keys("wrong-token-000000000000")
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    wait.until(lambda d: d.find_element(By.ID, "sign-in-error").text != "")
    check("refused" in driver.find_element(By.ID, "sign-in-error").text, "a wrong token shows a refusal")
    shot("sign-in")
    token_input = driver.find_element(By.ID, "token")
    token_input.clear()
    token_input.send_keys(TOKEN)
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    wait.until(EC.presence_of_element_located((By.ID, "requests-1h")))
    check(TOKEN not in driver.current_url, "the token is never in the URL")
    check(driver.execute_script("return sessionStorage.getItem('tokenhub-admin-token')") == TOKEN, "the token is kept in sessionStorage")

    # A key, created in the form, shown once.
    go("keys", "#create-key")
    driver.find_element(By.ID, "key-name").send_keys("browser")
    driver.find_element(By.ID, "key-budget").send_keys("10")
    driver.find_element(By.CSS_SELECTOR, "#create-key button[type=submit]").click()
    key = wait.until(EC.presence_of_element_located((By.ID, "new-key"))).text
    check(key.startswith("tokenhub_") and len(key) == 73, "the new key is shown: " + key)
    status, listed = http("GET", "/admin/v1/apikeys", token=TOKEN)
    seen["key_id"] = [entry["id"] for entry in listed["keys"] if entry["name"] == "browser"][0]
    shot("keys-created")
    go("keys", "#create-key")
    check(key not in driver.page_source, "the key is not shown a second time")
    check("Spent this month" in driver.find_element(By.ID, "view").text, "the keys table shows the month's spend")

    # Chats with it appear in the logs and in the overview's counters.
    for index in range(3):
        check(chat(key, "chat %d" % index) == 200, "a chat with the new key is served")
    go("logs", "#log-filters")
    rows = driver.find_elements(By.CSS_SELECTOR, "#view tbody tr")
    check(len([row for row in rows if "echo-1" in row.text]) >= 3, "the three chats are in the logs view")
    # The filters run on the server: a status no chat has leaves none; the key's id keeps its three.
    driver.find_element(By.ID, "filter-status").send_keys("error")
    driver.find_element(By.ID, "apply-log-filters").click()
    wait.until(lambda d: d.find_element(By.ID, "log-count").text == "none of 0")
    check(len([row for row in driver.find_elements(By.CSS_SELECTOR, "#view tbody tr") if "echo-1" in row.text]) == 0, "the status filter hides the served chats")
    driver.find_element(By.ID, "filter-status").clear()
    driver.find_element(By.ID, "filter-key").send_keys(seen["key_id"])
    driver.find_element(By.ID, "apply-log-filters").click()
    wait.until(lambda d: d.find_element(By.ID, "log-count").text == "1–3 of 3")
    check(all(seen["key_id"] in row.text for row in driver.find_elements(By.CSS_SELECTOR, "#view tbody tr")), "the key filter shows only that key's chats")
    driver.find_element(By.ID, "filter-key").clear()
    shot("logs")
    go("overview", "#requests-1h")
    wait.until(lambda d: int(d.find_element(By.ID, "requests-1h").text or "0") >= 3)
    seen["overview_requests"] = int(driver.find_element(By.ID, "requests-1h").text)
    check(chat(key, "live") == 200, "a chat while the overview is open is served")
    wait.until(lambda d: any("route_success" in item.text for item in d.find_elements(By.CSS_SELECTOR, "#event-feed li")))
    shot("overview")

    # Disable it: the next chat is refused.
    go("keys", "#create-key")
    key_row = [row for row in driver.find_elements(By.CSS_SELECTOR, "#view tbody tr") if row.text.startswith("browser")][0]
    key_row.find_element(By.CSS_SELECTOR, "button[data-action=disable]").click()
    wait.until(lambda d: any(row.text.startswith("browser") and "Enable" in row.text for row in d.find_elements(By.CSS_SELECTOR, "#view tbody tr")))
    check(chat(key) == 401, "a chat with the disabled key is refused")

    # A model through the form: a bad value is reported next to its field, a good one is listed.
    go("registry", "#add-model")
    driver.find_element(By.ID, "model-id").send_keys("browser-model")
    driver.find_element(By.ID, "model-provider").send_keys("echo")
    driver.find_element(By.ID, "model-weight").send_keys("99")
    driver.find_element(By.CSS_SELECTOR, "#add-model button[type=submit]").click()
    weight_error = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#add-model [data-field=weight]").text)
    check("weight" in weight_error, "the validation error is shown next to the weight field: " + weight_error)
    seen["weight_error"] = weight_error
    shot("registry-validation")
    weight = driver.find_element(By.ID, "model-weight")
    weight.clear()
    weight.send_keys("3")
    driver.find_element(By.CSS_SELECTOR, "#add-model button[type=submit]").click()
    wait.until(lambda d: "browser-model" in d.find_element(By.ID, "view").text and d.find_element(By.ID, "model-id").get_attribute("value") == "")
    shot("registry")

    # Edit it in the same form: the id is fixed, a bad weight is reported at its field, a good one is saved.
    driver.find_element(By.CSS_SELECTOR, "button[data-action=edit-model][data-id=browser-model]").click()
    check(driver.find_element(By.ID, "model-id").get_attribute("readonly") is not None, "the edited model's id cannot be changed")
    weight = driver.find_element(By.ID, "model-weight")
    check(weight.get_attribute("value") == "3", "the edit form starts from the model's weight")
    weight.clear()
    weight.send_keys("42")
    driver.find_element(By.ID, "model-submit").click()
    edit_error = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#add-model [data-field=weight]").text)
    check("weight" in edit_error, "an edit's validation error is shown next to the weight field: " + edit_error)
    weight.clear()
    weight.send_keys("7")
    driver.find_element(By.ID, "model-submit").click()
    wait.until(lambda d: d.find_element(By.ID, "model-submit").text == "Add model")
    status, listed = http("GET", "/admin/v1/models", token=TOKEN)
    edited = [model for model in listed["models"] if model["id"] == "browser-model"]
    check(status == 200 and len(edited) == 1 and edited[0]["weight"] == 7, "the edit is saved: %s" % edited)
    driver.find_element(By.CSS_SELECTOR, "button[data-action=edit-provider][data-id=echo]").click()
    check(driver.find_element(By.ID, "provider-submit").text == "Save echo", "a provider opens in the same kind of edit form")
    driver.find_element(By.ID, "provider-cancel").click()
    wait.until(lambda d: d.find_element(By.ID, "provider-submit").text == "Add provider")

    # Stored strings are text, never HTML: a key name and a logged error holding markup.
    status, _ = http("POST", "/admin/v1/apikeys", {"name": XSS_NAME}, token=TOKEN)
    check(status == 201, "a key named with markup is created")
    status, _ = http("POST", "/admin/v1/models", {"id": XSS_MODEL, "provider": "echo"}, token=TOKEN)
    check(status == 201, "a model whose id holds markup is registered (status %s)" % status)
    status, open_key = http("POST", "/admin/v1/apikeys", {"name": "xss-sender"}, token=TOKEN)
    check(chat(open_key["key"], "x", {"model": XSS_MODEL, "model_strict": True}) == 200, "a chat to the markup model is logged")
    go("keys", "#create-key")
    check(XSS_NAME in driver.find_element(By.ID, "view").text, "the markup name is shown as text")
    go("logs", "#log-filters")
    check(XSS_MODEL in driver.find_element(By.ID, "view").text, "the markup model id is shown as text in the logs")
    go("registry", "#add-model")
    check(XSS_MODEL in driver.find_element(By.ID, "view").text, "and in the models list")
    check(driver.execute_script("return window.__xss === undefined"), "no injected script ran")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#view img")) == 0, "no injected element exists")
    shot("logs-xss")

    # Workflows (Temporal is off here) and plugins.
    go("workflows", "#workflow-status")
    check("not enabled" in driver.find_element(By.ID, "view").text, "workflows say Temporal is off")
    go("config", "#reload")
    check("direct" in driver.find_element(By.ID, "view").text, "the loaded plugins are listed")
    shot("config")

    # A broken config: the reload button shows the precise rejection.
    with open(CONFIG) as handle:
        good = handle.read()
    with open(CONFIG, "w") as handle:
        handle.write(good.replace("require_api_key: true", "require_api_key: sometimes"))
    driver.find_element(By.ID, "reload").click()
    rejection = wait.until(EC.presence_of_element_located((By.ID, "reload-error"))).text
    check("require_api_key" in rejection, "the rejection names the key: " + rejection)
    seen["reload_rejection"] = rejection
    shot("config-rejected")
    with open(CONFIG, "w") as handle:
        handle.write(good)

    # Phone width: nothing wider than the screen; every control is a native, focusable one.
    driver.set_window_size(390, 844)
    for view, ready in [("overview", "#requests-1h"), ("keys", "#create-key"), ("logs", "#log-filters"), ("registry", "#add-model")]:
        go(view, ready)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 1, "%s fits a 390 px screen (overflow %s px)" % (view, overflow))
        check(driver.execute_script("return document.querySelectorAll('[tabindex=\"-1\"], [onclick]').length") == 0,
              view + ": no control taken out of the keyboard order, no inline handler")
        shot(view + "-phone")

    # No script errors and no CSP violations in the browser console. The requests the test
    # made fail on purpose (the wrong token, the bad weight, the broken config, the disabled
    # key's refusal) are logged by Chromium as failed loads; those are the only ones allowed.
    expected = ["status of 401", "status of 400", "status of 422", "status of 409"]
    errors = [entry["message"] for entry in driver.get_log("browser")
              if entry["level"] == "SEVERE" and not any(text in entry["message"] for text in expected)]
    check(errors == [], "no console errors: " + json.dumps(errors))
    seen["console_errors"] = 0
    print(json.dumps(seen))
finally:
    driver.quit()
