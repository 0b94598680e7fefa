"""Dashboard tests: headless Debian Chromium driven by Playwright against the real server
(they skip with how to install it locally and fail on CI, ``GRIDCORE_REQUIRE_BROWSER=1``)."""
