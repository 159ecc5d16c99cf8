#!/usr/bin/env node
// Makes sure Debian's Chromium is at /usr/bin/chromium for the dashboard's browser test. Run by
// `npm test`, after the Temporal toolchain. Does nothing when it is there; otherwise installs the
// `chromium` package with apt-get (scripts/debian-package.mjs), and exits non-zero with one line
// when it cannot: the browser test must fail loudly, never skip, on a machine without a browser.
import { ensureDebianPackage } from './debian-package.mjs';

ensureDebianPackage({ name: 'chromium', binary: '/usr/bin/chromium', pkg: 'chromium', hint: 'install Chromium there by hand.' });
