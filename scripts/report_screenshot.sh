#!/usr/bin/env bash
# report_screenshot.sh PROJECT [OUT.png] — renders PROJECT/report.html (written by `tachyon report
# PROJECT`) in headless Chromium and saves a screenshot (default PROJECT/report.png), with every
# network request refused: the page must be complete on its own.
# Needs chromium, chromium-headless-shell or google-chrome. They are not installed by setup.sh
# (about 220 MB); on Debian/Ubuntu: apt-get install -y chromium-headless-shell
set -euo pipefail
project=${1:?usage: report_screenshot.sh PROJECT [OUT.png]}
html="$(cd "$project" && pwd)/report.html"
png=${2:-$project/report.png}
[ -f "$html" ] || { echo "no $html: run tachyon report $project first" >&2; exit 1; }
browser=""
for b in chromium-headless-shell chrome-headless-shell chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
  for b in /usr/lib/chromium/chromium-headless-shell /usr/lib/chromium/headless_shell; do
    [ -x "$b" ] && browser=$b && break
  done
fi
[ -n "$browser" ] || { echo "no headless Chromium found: apt-get install -y chromium-headless-shell" >&2; exit 2; }
png_abs="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")"
rm -f "$png_abs"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --host-resolver-rules="MAP * ~NOTFOUND" --window-size=1280,2600 \
  --screenshot="$png_abs" "file://$html" >/dev/null 2>&1
[ -s "$png_abs" ] || { echo "$browser wrote no screenshot" >&2; exit 1; }
echo "wrote $png_abs"
