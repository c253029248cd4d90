#!/usr/bin/python3
"""Drives the fleet page in a headless Chromium over the DevTools protocol, for Tests/ImprintServerTests.

The Swift test starts Chromium (--remote-debugging-port on loopback) and calls this script once per step; the
browser keeps its tab and cookies between calls. Every step prints one JSON object: what the page shows now.

  fleet_page.py --devtools PORT login URL TOKEN_FILE
  fleet_page.py --devtools PORT open-window URL GROUP ACTION[,ACTION...] MINUTES
  fleet_page.py --devtools PORT wait-state UNIT STATE SECONDS
  fleet_page.py --devtools PORT screenshot PATH WIDTH [mobile]

The token is read from the file and typed into the form; it is never printed or put in a URL. Clicks and typing go
through Input events, as a person's would; the page's own meta refresh (no script) brings new states in.
"""
import argparse
import base64
import json
import sys
import time
import urllib.request

import websocket  # Debian's python3-websocket

# What the page shows, read from the DOM (DevTools' evaluation is not subject to the page's no-script policy).
READ_PAGE = """JSON.stringify({
  url: location.href,
  title: document.title,
  refreshes: !!document.querySelector('meta[http-equiv="refresh"]'),
  notice: (document.querySelector('.notice') || {}).textContent || null,
  window: (document.querySelector('.window-open h2') || {}).textContent || null,
  scripts: document.scripts.length,
  rows: [...document.querySelectorAll('tr.unit')].map(row => ({
    unit: row.dataset.unit,
    state: row.dataset.state,
    stateText: row.querySelector('.state').textContent,
    model: row.querySelector('[data-label="Model"]').textContent,
    lastReport: row.querySelector('[data-label="Last report"]').textContent.trim(),
    error: row.querySelector('.error').textContent,
    errorElements: row.querySelector('.error').children.length,
    buttons: [...row.querySelectorAll('button')].map(button => button.textContent)
  }))
})"""


class Tab:
    def __init__(self, port):
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
                    targets = [t for t in json.load(answer) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"no Chromium page on DevTools port {port}")
            time.sleep(0.2)
        self.socket = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    sys.exit(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            sys.exit(f"evaluating {expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def page(self):
        return json.loads(self.evaluate(READ_PAGE))

    def wait_loaded(self, previous_marker=None, seconds=30):
        """Waits for a new document (when previous_marker is set, one that replaced the marked one) to finish loading."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                ready = self.evaluate("document.readyState + ' ' + (window.imprintMarker || '')")
            except SystemExit:
                ready = ""
            state, _, marker = ready.partition(" ")
            if state == "complete" and (previous_marker is None or marker != previous_marker):
                return
            time.sleep(0.1)
        sys.exit("the page did not load")

    def mark(self):
        marker = str(time.monotonic())
        self.evaluate(f"window.imprintMarker = '{marker}'")
        return marker

    def navigate(self, url):
        marker = self.mark()
        self.call("Page.navigate", url=url)
        self.wait_loaded(marker)

    def click(self, selector):
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            f" e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();"
            f" return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        if box is None:
            sys.exit(f"nothing on the page matches {selector}")
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def type_into(self, selector, text):
        self.click(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).value = ''")
        self.call("Input.insertText", text=text)

    def submit_by_clicking(self, selector):
        marker = self.mark()
        self.click(selector)
        self.wait_loaded(marker)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--devtools", type=int, required=True)
    parser.add_argument("command")
    parser.add_argument("arguments", nargs="*")
    options = parser.parse_args()
    tab = Tab(options.devtools)
    arguments = options.arguments

    if options.command == "login":
        url, token_file = arguments
        with open(token_file, encoding="utf-8") as file:
            token = file.read().strip()
        tab.navigate(url + "/login")
        tab.type_into("#token", token)
        tab.submit_by_clicking("form.login button[type=submit]")
    elif options.command == "open-window":
        url, group, actions, minutes = arguments
        tab.navigate(url + "/fleet?group=" + urllib.request.quote(group, safe=""))
        wanted = set(actions.split(","))
        for value in ("restore", "personalize", "enrol"):
            checked = tab.evaluate(f"document.querySelector('input[name=actions][value={value}]').checked")
            if checked != (value in wanted):
                tab.click(f"input[name=actions][value={value}]")
        tab.type_into("input[name=minutes]", minutes)
        tab.submit_by_clicking("form.window-form button[type=submit]")
    elif options.command == "wait-state":
        unit, state, seconds = arguments
        deadline = time.monotonic() + float(seconds)
        while True:
            try:
                shown = tab.page()
            except SystemExit:  # between two documents while the page refreshes itself
                shown = {"rows": []}
            if any(row["unit"] == unit and row["state"] == state for row in shown["rows"]):
                break
            if time.monotonic() > deadline:
                print(json.dumps(shown))
                sys.exit(f"{unit} did not show as {state} within {seconds} s")
            time.sleep(0.25)
    elif options.command == "screenshot":
        path, width = arguments[0], int(arguments[1])
        mobile = len(arguments) > 2 and arguments[2] == "mobile"
        tab.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1, mobile=mobile)
        height = tab.evaluate("Math.ceil(document.documentElement.scrollHeight)")
        tab.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)
        shot = tab.call("Page.captureScreenshot", format="png")
        with open(path, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        tab.call("Emulation.clearDeviceMetricsOverride")
    else:
        sys.exit(f"unknown command {options.command}")
    print(json.dumps(tab.page()))


if __name__ == "__main__":
    main()
