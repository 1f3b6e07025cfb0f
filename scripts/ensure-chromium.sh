#!/bin/sh
# Make sure the Debian `chromium` package is present for the browser tests (examples/express-server).
# We never download a browser through playwright: the tests drive the system Chromium with
# playwright-core. When it is missing and we cannot install it (not root, no apt-get), we say why and
# exit 0 so the browser test skips itself with a printed reason instead of failing the whole run.
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-chromium: $CHROMIUM missing and not root; the browser test will be skipped" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM missing and apt-get unavailable; the browser test will be skipped" >&2
  exit 0
fi
echo "ensure-chromium: installing the Debian chromium package (takes a few minutes)" >&2
export DEBIAN_FRONTEND=noninteractive
if apt-get update && apt-get install -y --no-install-recommends chromium; then
  exit 0
fi
echo "ensure-chromium: apt-get install chromium failed; the browser test will be skipped" >&2
exit 0
