#!/usr/bin/env node
// Makes sure Debian's Prometheus (prometheus, promtool) and Alertmanager are there for the alert
// tests (test/server/alert-rules.test.ts checks and unit-tests deploy/prometheus/ with promtool;
// test/server/alerts-fired.test.ts fires the rules through both for real). Run by `npm test`, beside
// scripts/chromium.mjs. Their services are never started: the tests run both from their own
// config, on ports they pick, with data in temp folders.
import { ensureDebianPackage } from './debian-package.mjs';

ensureDebianPackage({
  name: 'prometheus',
  binary: '/usr/bin/promtool',
  pkg: 'prometheus',
  hint: 'install Prometheus (with promtool) there by hand.',
  noServices: true,
});
ensureDebianPackage({
  name: 'alertmanager',
  binary: '/usr/bin/prometheus-alertmanager',
  pkg: 'prometheus-alertmanager',
  hint: 'install Prometheus Alertmanager there by hand.',
  noServices: true,
});
